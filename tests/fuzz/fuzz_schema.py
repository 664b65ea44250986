#!/usr/bin/env python3
"""Bounded schema fuzzing: documents generated from schema.graphql, sent to a server.

    python3 tests/fuzz/fuzz_schema.py http://127.0.0.1:8080/graphql

hypothesis-graphql (pinned in .ci/requirements-fuzz.txt) generates documents from
schema.graphql, of four kinds:
    query           valid queries, arguments as generated (mostly refused values);
    anchored query  valid queries whose usernames, slugs, tags and IDs are replaced by
                    seeded ones, page sizes brought to 1-20 and cursors dropped, so
                    that their selections reach real data;
    mutation        valid mutations;
    invalid         queries and mutations with one schema violation each
                    (hypothesis-graphql's NEGATIVE mode).
Half of the examples are sent signed in (as a user this script registers, with two
articles, a comment, a favorite, follows and notifications around it; a fuzzed `logout`
is followed by a new sign-in), half anonymously; a third of the queries and invalid
documents go over GET; the Accept header alternates between application/json and
application/graphql-response+json.

Every response must have: an HTTP status below 500; a JSON body shaped as a GraphQL
response; errors that each have a string `message` and an `extensions.code` documented
in src/error.rs; no SQL, panic, file or stack-trace text in any message; no
INTERNAL_SERVER_ERROR or SERVICE_UNAVAILABLE at all (each is a server bug or a
resource problem), and were one sent, its message must be the masked one; no null
in a non-null position without an error at or below it; 405 METHOD_NOT_ALLOWED for a
mutation over GET. Findings reported but not fixed yet are listed in KNOWN below:
they are counted and printed, and do not fail the run.

Settings (environment):
    FUZZ_EXAMPLES  examples in all (default 300): 25% queries, 25% anchored queries,
                   35% mutations, 15% invalid documents
    FUZZ_SEED      an integer: explore with this seed instead of the fixed,
                   derandomized generation CI uses
    FUZZ_STRICT=1  known findings fail the run too
    FUZZ_TRACE=1   print every document and response

Prints a summary, then one line `summary: {json}`; exits 1 on any violation (each
printed with its document and response), 2 if the server cannot be set up for the run,
3 if the Python packages are missing.
"""

from __future__ import annotations

import collections
import http.client
import json
import os
import re
import sys
import tempfile
import time
import urllib.parse
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "schema.graphql"
ERRORS_RS = ROOT / "src" / "error.rs"
REQUIREMENTS = ROOT / ".ci" / "requirements-fuzz.txt"

EXIT_VIOLATIONS = 1
EXIT_SETUP = 2
EXIT_MISSING_PACKAGES = 3

# Hypothesis keeps caches (not examples: the database is off) in a storage directory;
# keep it out of the work tree.
os.environ.setdefault(
    "HYPOTHESIS_STORAGE_DIRECTORY",
    os.path.join(tempfile.gettempdir(), "conduit-fuzz-hypothesis"),
)

try:
    import graphql
    import hypothesis_graphql as hg
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed
except ImportError as err:
    print(
        f"MISSING PACKAGES: no module {err.name!r}: run "
        "`python3 -m pip install -r .ci/requirements-fuzz.txt`",
        file=sys.stderr,
    )
    sys.exit(EXIT_MISSING_PACKAGES)

JSON_TYPES = ("application/json", "application/graphql-response+json")
PASSWORD = "correct horse battery"
# GET only for documents whose URL stays under what proxies commonly accept.
MAX_GET_URL = 8000
# Violations printed in full; the rest are counted by kind.
PRINT_LIMIT = 20

# Text that must never reach a client: SQL, database, panic and source details. A
# pattern that also occurs in the request is the server echoing input, not a leak.
LEAKS = [
    re.compile(p)
    for p in (
        r"\bSELECT\b",
        r"\bINSERT\s+INTO\b",
        r"\bUPDATE\s+\S+\s+SET\b",
        r"\bDELETE\s+FROM\b",
        r"\bRETURNING\b",
        r"(?i)syntax error at",
        r'(?i)relation "',
        r"(?i)violates .*constraint",
        r"(?i)duplicate key",
        r"(?i)invalid byte sequence",
        r"(?i)sqlstate",
        r"(?i)\bpostgres",
        r"(?i)diesel",
        r"(?i)tokio",
        r"(?i)deadpool|bb8|r2d2",
        r"(?i)panicked",
        r"(?i)stack backtrace|RUST_BACKTRACE",
        r"(?i)called `(Option|Result)::",
        r"\bsrc/",
        r"\.rs:\d",
        r"(?i)thread '",
        r"(?i)anyhow",
    )
]


def documented_errors() -> tuple[set[str], str, str]:
    """The codes, the masked internal message and the unavailable message of src/error.rs."""
    text = ERRORS_RS.read_text(encoding="utf-8")
    codes = set(re.findall(r'=> "([A-Z][A-Z_]+)",', text))
    internal = re.search(r'pub const INTERNAL_MESSAGE: &str = "([^"]*)";', text)
    unavailable = re.search(r'pub const UNAVAILABLE_MESSAGE: &str = "([^"]*)";', text)
    if not codes or not internal or not unavailable:
        print(f"cannot read the error codes and messages from {ERRORS_RS}", file=sys.stderr)
        sys.exit(EXIT_SETUP)
    return codes, internal.group(1), unavailable.group(1)


CODES, INTERNAL_MESSAGE, UNAVAILABLE_MESSAGE = documented_errors()
# Codes that mean the server failed, whatever the status: each is a finding.
FAILURE_CODES = {"INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE"}
MASKED_INTERNAL = f"INTERNAL_SERVER_ERROR (a server-side failure): {INTERNAL_MESSAGE!r}"

# Findings reported and not fixed yet, each matched narrowly (document, problem): a
# violation all of whose problems are known is counted, printed once, and does not fail
# the run, unless FUZZ_STRICT=1. Remove an entry once its fix is in.
KNOWN: dict = {
    # None open. Fixed: "nul-in-text" (U+0000 in a string now fails as BAD_USER_INPUT
    # before execution) and "int-out-of-range" (an uncoercible Int is BAD_USER_INPUT).
}


def known_findings(document: str, problems: list[str]) -> list[str] | None:
    """The known findings that account for every one of `problems`, if they do."""
    names = set()
    for problem in problems:
        name = next((n for n, (_, matches) in KNOWN.items() if matches(document, problem)), None)
        if name is None:
            return None
        names.add(name)
    return sorted(names)


def check_pins() -> list[str]:
    """Installed versions that differ from the pins (then the run is not CI's)."""
    from importlib.metadata import PackageNotFoundError, version

    differ = []
    for line in REQUIREMENTS.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" not in line:
            continue
        name, pinned = (part.strip() for part in line.split("==", 1))
        try:
            installed = version(name)
        except PackageNotFoundError:
            installed = "none"
        if installed != pinned:
            differ.append(f"{name} {installed} (pinned {pinned})")
    return differ


class Client:
    """HTTP/1.1 to the GraphQL URL over one kept-alive connection."""

    def __init__(self, url: str):
        parts = urllib.parse.urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            print(f"usage: {sys.argv[0]} http://HOST:PORT/graphql (got {url!r})", file=sys.stderr)
            sys.exit(EXIT_SETUP)
        self.host = parts.hostname
        self.port = parts.port or 80
        self.path = parts.path or "/graphql"
        self.conn: http.client.HTTPConnection | None = None

    def send(self, method: str, target: str, body: bytes | None, headers: dict[str, str]):
        """(status, content type, body); None for the status if no answer came."""
        while True:
            reused = self.conn is not None
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
                self.conn.request(method, target, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                if response.will_close:
                    self.conn.close()
                    self.conn = None
                return response.status, response.getheader("content-type", ""), data
            except (OSError, http.client.HTTPException) as err:
                if self.conn is not None:
                    self.conn.close()
                    self.conn = None
                # A kept-alive connection may have been closed by the server between
                # requests: then retry on a new one. On a new one, that is the answer.
                if not reused:
                    return None, "", f"no response: {err!r}".encode()

    def post(self, query: str, variables=None, token=None, accept=JSON_TYPES[0]):
        headers = {"content-type": "application/json", "accept": accept}
        if token:
            headers["authorization"] = f"Bearer {token}"
        body = {"query": query}
        if variables is not None:
            body["variables"] = variables
        return self.send("POST", self.path, json.dumps(body).encode(), headers)

    def get_target(self, query: str) -> str:
        return f"{self.path}?{urllib.parse.urlencode({'query': query})}"

    def get(self, query: str, token=None, accept=JSON_TYPES[0]):
        headers = {"accept": accept}
        if token:
            headers["authorization"] = f"Bearer {token}"
        return self.send("GET", self.get_target(query), None, headers)


class SetupError(Exception):
    pass


def call(client: Client, query: str, variables=None, token=None) -> dict:
    """Runs a setup operation; its data, or SetupError."""
    status, _, body = client.post(query, variables, token)
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = None
    if status != 200 or not isinstance(parsed, dict) or parsed.get("errors"):
        raise SetupError(f"{query}\n-> {status}: {body[:2000]!r}")
    return parsed["data"]


REGISTER = """mutation($input: RegisterInput!) {
  register(input: $input) { accessToken user { username } }
}"""
LOGIN = """mutation($input: LoginInput!) { login(input: $input) { accessToken } }"""


class Anchors:
    """Seeded values that anchored queries use in place of generated ones, so that their
    selections reach real users, articles, comments and notifications."""

    # Arguments replaced, by the kind of value they take.
    USERNAME = {"username", "author", "favoritedBy"}
    SLUG = {"slug", "articleSlug"}
    PAGE = {"first", "last"}
    CURSOR = {"after", "before"}

    def __init__(self, usernames: list[str], slugs: list[str], tags: list[str], ids: list[str]):
        self.usernames = usernames
        self.slugs = slugs
        self.tags = tags
        self.ids = ids

    @staticmethod
    def pick(options: list[str], node) -> str:
        """One of `options`, chosen by the generated value (deterministically)."""
        text = getattr(node, "value", "") or ""
        return options[len(str(text)) % len(options)]

    def apply(self, document: graphql.DocumentNode) -> graphql.DocumentNode:
        """`document` with seeded names, slugs, tags and IDs, page sizes of 1-20 (only
        `first` when both are given) and no cursors."""
        anchors = self

        def string(value: str) -> graphql.StringValueNode:
            return graphql.StringValueNode(value=value)

        class Anchor(graphql.Visitor):
            def enter_field(self, node, *_):
                names = {a.name.value for a in node.arguments or ()}
                kept = []
                for argument in node.arguments or ():
                    name = argument.name.value
                    value = argument.value
                    if name in Anchors.CURSOR or (name == "last" and "first" in names):
                        continue
                    if isinstance(value, graphql.NullValueNode):
                        pass
                    elif name in Anchors.PAGE and isinstance(value, graphql.IntValueNode):
                        value = graphql.IntValueNode(value=str(abs(int(value.value)) % 20 + 1))
                    elif name in Anchors.USERNAME:
                        value = string(anchors.pick(anchors.usernames, value))
                    elif name in Anchors.SLUG:
                        value = string(anchors.pick(anchors.slugs, value))
                    elif name == "tag":
                        value = string(anchors.pick(anchors.tags, value))
                    elif name == "id":
                        value = string(anchors.pick(anchors.ids, value))
                    elif name == "ids" and isinstance(value, graphql.ListValueNode):
                        value = graphql.ListValueNode(
                            values=tuple(string(anchors.pick(anchors.ids, v)) for v in value.values[:20])
                        )
                    kept.append(graphql.ArgumentNode(name=argument.name, value=value))
                return graphql.FieldNode(
                    alias=node.alias,
                    name=node.name,
                    arguments=tuple(kept),
                    directives=node.directives,
                    selection_set=node.selection_set,
                )

        return graphql.visit(document, Anchor())


class Session:
    """The signed-in user the fuzzer acts as, renewed when a fuzzed `logout` ends it."""

    def __init__(self, client: Client):
        self.client = client
        self.suffix = uuid.uuid4().hex[:8]
        self.renewals = 0
        self.email = f"fuzz-alice-{self.suffix}@example.com"
        self.token = self.register(f"fuzz-alice-{self.suffix}", self.email)

    def register(self, username: str, email: str) -> str:
        data = call(
            self.client,
            REGISTER,
            {"input": {"username": username, "email": email, "password": PASSWORD}},
        )
        return data["register"]["accessToken"]

    def seed(self) -> "Anchors":
        """Data for the fuzzed documents to find: articles, tags, a comment, favorites,
        follows both ways, and so notifications for the signed-in user. Returns what
        anchored queries point at."""
        alice = f"fuzz-alice-{self.suffix}"
        bob_name = f"fuzz-bob-{self.suffix}"
        bob = self.register(bob_name, f"{bob_name}@example.com")
        create = "mutation($input: CreateArticleInput!) { createArticle(input: $input) { id slug } }"
        articles = []
        for title, tags, token in (
            ("Fuzzing schemas", ["fuzz", "graphql"], self.token),
            ("Second post", ["rust"], self.token),
        ):
            data = call(
                self.client,
                create,
                {"input": {"title": title, "description": "d", "body": "# b", "tags": tags}},
                token,
            )
            articles.append(data["createArticle"])
        follow = "mutation($u: String!) { followUser(username: $u) { id } }"
        alice_id = call(self.client, follow, {"u": alice}, bob)["followUser"]["id"]
        bob_id = call(self.client, follow, {"u": bob_name}, self.token)["followUser"]["id"]
        comment = call(
            self.client,
            'mutation($s: String!) { addComment(articleSlug: $s, body: "Nice") { id } }',
            {"s": articles[0]["slug"]},
            bob,
        )["addComment"]["id"]
        call(
            self.client,
            "mutation($s: String!) { favoriteArticle(slug: $s) { id } }",
            {"s": articles[0]["slug"]},
            bob,
        )
        data = call(
            self.client,
            create,
            {"input": {"title": "Bob's", "description": "d", "body": "b", "tags": ["fuzz"]}},
            bob,
        )
        articles.append(data["createArticle"])
        notifications = call(
            self.client,
            "{ viewer { notifications(first: 10) { nodes { id } } } }",
            token=self.token,
        )["viewer"]["notifications"]["nodes"]
        return Anchors(
            usernames=[alice, bob_name],
            slugs=[a["slug"] for a in articles],
            tags=["fuzz", "rust", "graphql"],
            ids=[alice_id, bob_id, comment]
            + [a["id"] for a in articles]
            + [n["id"] for n in notifications],
        )

    def alive(self) -> bool:
        status, _, body = self.client.post("{ viewer { id } }", token=self.token)
        try:
            data = json.loads(body)
        except ValueError:
            return False
        return status == 200 and not data.get("errors") and bool((data.get("data") or {}).get("viewer"))

    def renew(self) -> None:
        """Signs in again (a new session), or registers a new user if a fuzzed
        `updateViewer` changed the email."""
        self.renewals += 1
        try:
            data = call(self.client, LOGIN, {"input": {"email": self.email, "password": PASSWORD}})
            self.token = data["login"]["accessToken"]
        except SetupError:
            self.email = f"fuzz-alice-{self.suffix}-{self.renewals}@example.com"
            self.token = self.register(f"fuzz-alice-{self.suffix}-{self.renewals}", self.email)


def problems_in(request_text: str, status, content_type: str, body: bytes, expect_405: bool) -> tuple[list[str], list[str]]:
    """The violations in one response, and the error codes it carries."""
    found: list[str] = []
    codes: list[str] = []
    if status is None:
        return [body.decode(errors="replace")], codes
    if status >= 500:
        found.append(f"HTTP {status}")
    if content_type.split(";")[0].strip().lower() not in JSON_TYPES:
        found.append(f"content type {content_type!r}")
    try:
        response = json.loads(body)
    except ValueError:
        return found + ["the body is not JSON"], codes
    if not isinstance(response, dict):
        return found + ["the body is not a JSON object"], codes
    extra = set(response) - {"data", "errors", "extensions"}
    if extra:
        found.append(f"unexpected top-level keys {sorted(extra)}")
    errors = response.get("errors")
    if "errors" in response and (not isinstance(errors, list) or not errors):
        found.append("`errors` is present but not a non-empty list")
        errors = []
    errors = errors or []
    if "data" not in response and not errors:
        found.append("neither `data` nor `errors`")
    if response.get("data") is None and "data" in response and not errors:
        found.append("`data` is null without errors")
    lowered_request = request_text.lower()
    for error in errors:
        if not isinstance(error, dict):
            found.append(f"an error that is not an object: {error!r}")
            continue
        message = error.get("message")
        code = (error.get("extensions") or {}).get("code") if isinstance(error.get("extensions"), dict) else None
        codes.append(code if isinstance(code, str) else "<none>")
        if not isinstance(message, str) or not message:
            found.append(f"an error without a string message: {error!r}")
            message = ""
        if not isinstance(code, str):
            found.append(f"an error without extensions.code: {message!r}")
        elif code not in CODES:
            found.append(f"undocumented code {code}: {message!r}")
        elif code == "INTERNAL_SERVER_ERROR" and message not in (INTERNAL_MESSAGE,):
            found.append(f"INTERNAL_SERVER_ERROR with an unmasked message: {message!r}")
        elif code == "SERVICE_UNAVAILABLE" and message != UNAVAILABLE_MESSAGE:
            found.append(f"SERVICE_UNAVAILABLE with an unmasked message: {message!r}")
        if code in FAILURE_CODES:
            found.append(f"{code} (a server-side failure): {message!r}")
        for leak in LEAKS:
            hit = leak.search(message)
            if hit and hit.group(0).lower() not in lowered_request:
                found.append(f"leaked detail ({hit.group(0)!r}) in {message!r}")
        for key in ("locations", "path"):
            if key in error and not isinstance(error[key], list):
                found.append(f"`{key}` is not a list: {error!r}")
    if expect_405 and (status != 405 or codes != ["METHOD_NOT_ALLOWED"]):
        found.append(f"a mutation over GET answered {status} {codes}, not 405 METHOD_NOT_ALLOWED")
    return found, codes


def null_problems(schema: graphql.GraphQLSchema, document: str, response: dict) -> list[str]:
    """Nulls in non-null positions that no error accounts for: a null where the schema
    says non-null must come with an error at that path or below it (null propagation),
    and `data: null` with errors. Abstract types are handled loosely: a response key
    is checked only when every selection that may produce it agrees on its type."""
    data = response.get("data")
    errors = response.get("errors") or []
    error_paths = [tuple(e["path"]) for e in errors if isinstance(e, dict) and isinstance(e.get("path"), list)]
    if not isinstance(data, dict):
        return []
    ast = graphql.parse(document)
    fragments = {d.name.value: d for d in ast.definitions if isinstance(d, graphql.FragmentDefinitionNode)}
    operations = [d for d in ast.definitions if isinstance(d, graphql.OperationDefinitionNode)]
    if len(operations) != 1:
        return []
    root = schema.get_root_type(operations[0].operation)
    found: list[str] = []

    def explained(path: tuple) -> bool:
        return any(p[: len(path)] == path for p in error_paths)

    def collect(selections, parent, into: dict) -> None:
        for selection in selections:
            if isinstance(selection, graphql.FieldNode):
                key = (selection.alias or selection.name).value
                name = selection.name.value
                if name == "__typename":
                    field_type = graphql.GraphQLNonNull(graphql.GraphQLString)
                else:
                    fields = getattr(parent, "fields", {})
                    if name not in fields:
                        continue
                    field_type = fields[name].type
                into.setdefault(key, []).append((field_type, selection.selection_set))
            else:
                if isinstance(selection, graphql.FragmentSpreadNode):
                    fragment = fragments.get(selection.name.value)
                    if fragment is None:
                        continue
                    condition, subset = fragment.type_condition, fragment.selection_set
                else:
                    condition, subset = selection.type_condition, selection.selection_set
                target = schema.get_type(condition.name.value) if condition else parent
                collect(subset.selections, target, into)

    def check(value, field_type, subsets, path: tuple) -> None:
        if value is None:
            if graphql.is_non_null_type(field_type) and not explained(path):
                found.append(f"null in a non-null position without an error: {'.'.join(map(str, path))}")
            return
        field_type = graphql.get_nullable_type(field_type)
        if graphql.is_list_type(field_type):
            if isinstance(value, list):
                for i, item in enumerate(value):
                    check(item, field_type.of_type, subsets, path + (i,))
            return
        if isinstance(value, dict) and subsets:
            walk(value, graphql.get_named_type(field_type), [s.selections for s in subsets if s], path)

    def walk(value: dict, parent, selection_lists, path: tuple) -> None:
        keys: dict = {}
        for selections in selection_lists:
            collect(selections, parent, keys)
        for key, candidates in keys.items():
            if key not in value:
                continue
            types = {str(t) for t, _ in candidates}
            if len(types) != 1:
                continue
            check(value[key], candidates[0][0], [s for _, s in candidates], path + (key,))

    walk(data, root, [operations[0].selection_set.selections], ())
    return found


class Fuzzer:
    def __init__(self, url: str):
        self.client = Client(url)
        self.session = Session(self.client)
        self.anchors = self.session.seed()
        self.schema = graphql.build_schema(SCHEMA.read_text(encoding="utf-8"))
        self.sent = 0
        self.by = collections.Counter()
        self.statuses = collections.Counter()
        self.codes = collections.Counter()
        self.violations: list[dict] = []
        self.strict = os.environ.get("FUZZ_STRICT") == "1"
        self.trace = os.environ.get("FUZZ_TRACE") == "1"
        self.known = collections.Counter()
        self.known_examples: dict[str, dict] = {}
        self.notes = collections.Counter()
        self.note_examples: dict[str, str] = {}

    def note(self, what: str, document: str) -> None:
        self.notes[what] += 1
        self.note_examples.setdefault(what, document)

    def send(self, kind: str, document: str) -> None:
        """Sends example number `self.sent` of `kind` and checks the answer."""
        n = self.sent
        self.sent += 1
        signed_in = n % 2 == 1
        accept = JSON_TYPES[(n // 2) % 2]
        token = self.session.token if signed_in else None
        is_mutation = document.lstrip().startswith("mutation")
        use_get = (
            kind != "mutation"
            and n % 3 == 0
            and len(self.client.get_target(document)) <= MAX_GET_URL
        )
        if use_get:
            status, content_type, body = self.client.get(document, token, accept)
        else:
            status, content_type, body = self.client.post(document, token=token, accept=accept)
        method = "GET" if use_get else "POST"
        self.by[kind] += 1
        self.by["signed in" if signed_in else "anonymous"] += 1
        self.by[method] += 1
        self.statuses[str(status)] += 1
        found, codes = problems_in(document, status, content_type, body, use_get and is_mutation)
        if kind != "invalid" and not found:
            found = null_problems(self.schema, document, json.loads(body))
        self.codes.update(codes)
        if not codes:
            self.by["without errors"] += 1
        if self.trace:
            print(f"--- {n}: {method} {kind}, {'signed in' if signed_in else 'anonymous'}, accept {accept}")
            print(document)
            print(f"-> {status}: {body.decode(errors='replace')[:2000]}")
        if found:
            violation = {
                    "kind": kind,
                    "method": method,
                    "accept": accept,
                    "signedIn": signed_in,
                    "problems": found,
                    "document": document,
                    "status": status,
                "response": body.decode(errors="replace"),
            }
            known = None if self.strict else known_findings(document, found)
            if known:
                for name in known:
                    self.known[name] += 1
                    self.known_examples.setdefault(name, violation)
            else:
                self.violations.append(violation)
        # What the run learns about the generator's agreement with the server (not
        # violations): valid documents the server refuses, invalid ones it runs.
        if kind != "invalid" and any(c in ("GRAPHQL_VALIDATION_FAILED", "GRAPHQL_PARSE_FAILED") for c in codes):
            self.note("a valid document refused as invalid", document + "\n-> " + body.decode(errors="replace")[:600])
        if kind == "invalid" and not codes:
            self.note("an invalid document that ran without errors", document)
        if signed_in and codes == ["UNAUTHENTICATED"] and '"path"' not in body.decode(errors="replace"):
            # The whole request failed on the token: a fuzzed `logout` (or similar)
            # ended the session. Start a new one.
            self.note("sessions renewed", document)
            self.session.renew()
        elif signed_in and is_mutation and re.search(r"\b(logout|changePassword|updateViewer)\b", document):
            if not self.session.alive():
                self.note("sessions renewed", document)
                self.session.renew()

    def run(self, kind: str, strategy, examples: int, seed: int | None) -> None:
        if examples <= 0:
            return

        @settings(
            max_examples=examples,
            derandomize=seed is None,
            deadline=None,
            database=None,
            phases=[Phase.generate],
            print_blob=False,
            suppress_health_check=list(HealthCheck),
        )
        @given(strategy)
        def fuzz(document: str) -> None:
            self.send(kind, document)

        fuzz.__name__ = "fuzz_" + kind.replace(" ", "_")
        if seed is not None:
            fuzz = hypothesis_seed(seed)(fuzz)
        fuzz()


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return EXIT_SETUP
    total = int(os.environ.get("FUZZ_EXAMPLES", "300"))
    seed = os.environ.get("FUZZ_SEED")
    seed = int(seed) if seed else None
    differ = check_pins()
    if differ:
        print(f"note: not the pinned versions ({', '.join(differ)}): generation differs from CI's", file=sys.stderr)

    schema = SCHEMA.read_text(encoding="utf-8")
    shares = {
        "query": total * 25 // 100,
        "anchored query": total * 25 // 100,
        "mutation": total * 35 // 100,
    }
    shares["invalid"] = total - sum(shares.values())

    started = time.monotonic()
    try:
        fuzzer = Fuzzer(sys.argv[1])
    except SetupError as err:
        print(f"cannot set up the fuzzing user and data:\n{err}", file=sys.stderr)
        return EXIT_SETUP
    strategies = {
        "query": hg.queries(schema),
        "anchored query": hg.queries(
            schema, print_ast=lambda document: graphql.print_ast(fuzzer.anchors.apply(document))
        ),
        "mutation": hg.mutations(schema),
        "invalid": hg.from_schema(schema, mode=hg.Mode.NEGATIVE),
    }
    for kind, strategy in strategies.items():
        fuzzer.run(kind, strategy, shares[kind], seed)
    elapsed = time.monotonic() - started

    def show(title: str, v: dict) -> None:
        print(f"\n=== {title}: {'; '.join(dict.fromkeys(v['problems']))}")
        print(f"{v['method']} {v['kind']}, {'signed in' if v['signedIn'] else 'anonymous'}, accept {v['accept']}")
        print(v["document"])
        print(f"-> {v['status']}: {v['response'][:4000]}")

    for name, count in fuzzer.known.items():
        show(f"KNOWN FINDING {name} ({count} examples; {KNOWN[name][0]}), e.g.", fuzzer.known_examples[name])
    for i, v in enumerate(fuzzer.violations[:PRINT_LIMIT], 1):
        show(f"VIOLATION {i}", v)
    if len(fuzzer.violations) > PRINT_LIMIT:
        kinds = collections.Counter(p.split(":")[0] for v in fuzzer.violations[PRINT_LIMIT:] for p in v["problems"])
        print(f"\n... and {len(fuzzer.violations) - PRINT_LIMIT} more violations: {dict(kinds)}")

    print()
    print(
        f"fuzzed {fuzzer.sent} examples in {elapsed:.1f} s "
        f"({', '.join(f'{k} {v}' for k, v in fuzzer.by.items())})"
    )
    print(f"HTTP statuses: {dict(sorted(fuzzer.statuses.items()))}")
    print(f"error codes: {dict(fuzzer.codes.most_common())}")
    for what, count in fuzzer.notes.items():
        print(f"note: {what}: {count}, e.g.\n{fuzzer.note_examples[what]}")
    for name in KNOWN:
        if name not in fuzzer.known:
            print(f"note: known finding {name} did not occur in this run (fixed? then remove it from KNOWN)")
    print(f"known findings: {dict(fuzzer.known)}")
    print(f"violations: {len(fuzzer.violations)}")
    summary = {
        "budget": total,
        "examples": fuzzer.sent,
        "by": dict(fuzzer.by),
        "statuses": dict(fuzzer.statuses),
        "codes": dict(fuzzer.codes),
        "notes": dict(fuzzer.notes),
        "violations": len(fuzzer.violations),
        "known": dict(fuzzer.known),
        "seconds": round(elapsed, 1),
        "pinned": not differ,
    }
    print("summary: " + json.dumps(summary, sort_keys=True))
    return EXIT_VIOLATIONS if fuzzer.violations else 0


if __name__ == "__main__":
    sys.exit(main())
