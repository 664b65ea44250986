#!/usr/bin/env python3
"""Latency of the home query against a running Conduit (sequential requests, one client).

    python3 bench/home_latency.py [--url http://127.0.0.1:8080/graphql] [--requests 200]
        [--email user1@example.com --password <demo password>]

Signs in when given an email and password (the query's viewer flags then do their work),
warms up, then prints p50/p90/p99/max in milliseconds and the SQL statements the server
reported (`extensions.sqlStatements`, when REPORT_SQL_STATEMENTS is on). Any response
with `errors` aborts the run. Standard library only.
"""

import argparse
import json
import statistics
import sys
import time
import urllib.request

HOME = """
query Home($first: Int!) {
  articles(first: $first) {
    totalCount
    nodes {
      slug title description tags createdAt favoritesCount viewerHasFavorited
      author { username image viewerIsFollowing }
      commentsCount
      comments(first: 3) { nodes { body author { username } } }
    }
  }
}
"""


def post(url, query, variables, token=None):
    body = json.dumps({"query": query, "variables": variables}).encode()
    request = urllib.request.Request(url, data=body, method="POST")
    request.add_header("content-type", "application/json")
    request.add_header("accept", "application/json")
    if token:
        request.add_header("authorization", f"Bearer {token}")
    with urllib.request.urlopen(request) as response:
        payload = json.load(response)
    if payload.get("errors"):
        sys.exit(f"errors in response: {payload['errors']}")
    return payload


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8080/graphql")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--first", type=int, default=20)
    parser.add_argument("--email")
    parser.add_argument("--password")
    args = parser.parse_args()

    token = None
    if args.email:
        login = post(
            args.url,
            "mutation($i: LoginInput!) { login(input: $i) { accessToken } }",
            {"i": {"email": args.email, "password": args.password}},
        )
        token = login["data"]["login"]["accessToken"]

    variables = {"first": args.first}
    for _ in range(20):
        post(args.url, HOME, variables, token)
    timings = []
    statements = None
    for _ in range(args.requests):
        start = time.perf_counter()
        payload = post(args.url, HOME, variables, token)
        timings.append((time.perf_counter() - start) * 1000)
        statements = payload.get("extensions", {}).get("sqlStatements", statements)
    timings.sort()

    def pct(p):
        return timings[min(len(timings) - 1, int(len(timings) * p))]

    who = "signed in" if token else "anonymous"
    print(
        f"home query, first: {args.first}, {who}, {args.requests} sequential requests: "
        f"p50 {pct(0.50):.2f} ms, p90 {pct(0.90):.2f} ms, p99 {pct(0.99):.2f} ms, "
        f"max {timings[-1]:.2f} ms, mean {statistics.mean(timings):.2f} ms, "
        f"SQL statements {statements}"
    )


if __name__ == "__main__":
    main()
