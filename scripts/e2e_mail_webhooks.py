#!/usr/bin/env python3
"""End to end through the real binary: mail and a signed webhook, verified independently.

    python3 scripts/e2e_mail_webhooks.py [--binary PATH] [--no-build]

Starts, on this machine:
- a real SMTP server (aiosmtpd, tests/smtp/sink.py) that keeps every mail it receives;
- a real HTTP receiver that verifies every webhook delivery with the `standardwebhooks`
  package (the Standard Webhooks reference library, not Conduit's code);
- the `conduit` binary of this checkout (debug build unless --binary) on its own database
  (`conduit_e2e_<pid>`, dropped afterwards; server from TEST_DATABASE_SERVER, default
  postgres://postgres@127.0.0.1:5432), mailing through the SMTP server.

Then, as a user would: registers; follows the verification link from the mail in the SMTP
server; asks for a password reset and follows that mail's link; signs in with the new
password; registers a webhook (the secret shown once); publishes an article; and checks at
the receiver that the delivery arrived, signed, with the delivery's id as `webhook-id`.
Prints a transcript and PASS, or FAIL and exits 1. Needs
`python3 -m pip install -r .ci/requirements-test.txt` (CI installs it).
"""

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SERVER = os.environ.get("TEST_DATABASE_SERVER", "postgres://postgres@127.0.0.1:5432")
KEY = "e2e1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def step(text):
    print(f"\n== {text}", flush=True)


def psql(sql):
    subprocess.run(["psql", f"{SERVER}/postgres", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql],
                   check=True, stdout=subprocess.DEVNULL)


class Receiver(BaseHTTPRequestHandler):
    """Verifies each delivery with standardwebhooks; keeps what it saw."""

    secret = None
    seen = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            Webhook(Receiver.secret).verify(body.decode(), headers)
            verified = True
        except Exception as err:  # noqa: BLE001 - reported in the transcript
            verified = f"refused: {err}"
        Receiver.seen.append({"headers": headers, "body": body.decode(), "verified": verified})
        self.send_response(204 if verified is True else 400)
        self.end_headers()

    def log_message(self, *args):
        pass


class Conduit:
    def __init__(self, url):
        self.url = url

    def gql(self, query, variables=None, token=None):
        request = urllib.request.Request(
            self.url, data=json.dumps({"query": query, "variables": variables or {}}).encode(),
            headers={"content-type": "application/json",
                     **({"authorization": f"Bearer {token}"} if token else {})})
        with urllib.request.urlopen(request, timeout=30) as response:
            body = json.load(response)
        if body.get("errors"):
            raise SystemExit(f"FAIL: {query.split('(')[0]}: {body['errors']}")
        return body["data"]


def wait(what, check, limit=30):
    started = time.monotonic()
    while time.monotonic() - started < limit:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise SystemExit(f"FAIL: timed out waiting for {what}")


def mails(folder):
    found = []
    for name in sorted(os.listdir(folder), key=lambda n: int(n.split(".")[0]) if n[0].isdigit() else 0):
        if name.endswith(".json"):
            with open(os.path.join(folder, name)) as f:
                found.append(json.load(f))
    return found


def link_token(mail, path):
    match = re.search(re.escape(path) + r"\?token=(\S+)", mail["text"])
    return match.group(1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary")
    parser.add_argument("--no-build", action="store_true")
    args = parser.parse_args()
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    binary = args.binary or os.path.join(target, "debug", "conduit")
    if not args.binary and not args.no_build:
        subprocess.run(["cargo", "build", "-q", "--bin", "conduit"], cwd=ROOT, check=True)

    db = f"conduit_e2e_{os.getpid()}"
    mail_dir = tempfile.mkdtemp(prefix="conduit-e2e-mail-")
    smtp_port, http_port, api_port = free_port(), free_port(), free_port()
    sink = subprocess.Popen([sys.executable, os.path.join(ROOT, "tests/smtp/sink.py"), str(smtp_port), mail_dir],
                            stdout=subprocess.PIPE, text=True)
    assert sink.stdout.readline().startswith("listening")
    receiver = ThreadingHTTPServer(("127.0.0.1", http_port), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DATABASE_URL": f"{SERVER}/{db}",
        "PORT": str(api_port),
        "DEMO_DATA": "false", "FRONTEND_BUILD": "false",
        "LOG_FORMAT": "json",
        "SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
        "PUBLIC_URL": "http://app.example",
        "WEBHOOK_SECRET_KEY": KEY,
        "WEBHOOK_ALLOW_HTTP": "true",
        "WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",
        "OUTBOX_POLL_INTERVAL_MS": "200",
    }
    server = subprocess.Popen([binary], env=env, cwd=tempfile.gettempdir(),
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    api = Conduit(f"http://127.0.0.1:{api_port}/graphql")
    try:
        wait("the server", lambda: _listening(api_port))

        step("register jane")
        auth = "accessToken refreshToken user { id username }"
        data = api.gql(f'mutation {{ register(input: {{username: "jane", email: "jane@example.com", password: "password-jane"}}) {{ {auth} }} }}')
        print("registered", data["register"]["user"])

        step("the welcome mail, in the SMTP server")
        welcome = wait("the welcome mail", lambda: mails(mail_dir))[0]
        print("To:", welcome["envelope_to"], "| Subject:", welcome["headers"]["subject"][0],
              "| Message-ID:", welcome["headers"]["message-id"][0])
        token = link_token(welcome, "http://app.example/verify-email")
        print("link: http://app.example/verify-email?token=" + token[:12] + "…")

        step("verifyEmail with the mailed token")
        data = api.gql("mutation($t: String!) { verifyEmail(token: $t) { username } }", {"t": token})
        access = api.gql('mutation { login(input: {email: "jane@example.com", password: "password-jane"}) { accessToken } }')["login"]["accessToken"]
        verified = api.gql("{ viewer { emailVerified } }", token=access)["viewer"]["emailVerified"]
        print("verifyEmail ->", data["verifyEmail"], "| viewer.emailVerified ->", verified)
        assert verified is True

        step("requestPasswordReset, then the reset mail")
        print("requestPasswordReset ->", api.gql('mutation { requestPasswordReset(email: "jane@example.com") }'))
        reset = wait("the reset mail", lambda: [m for m in mails(mail_dir) if "Reset" in m["headers"]["subject"][0]])[0]
        print("Subject:", reset["headers"]["subject"][0])
        token = link_token(reset, "http://app.example/reset-password")
        data = api.gql(f'mutation($t: String!) {{ resetPassword(token: $t, newPassword: "a-new-password") {{ {auth} }} }}', {"t": token})
        print("resetPassword -> signed in as", data["resetPassword"]["user"]["username"])
        access = api.gql('mutation { login(input: {email: "jane@example.com", password: "a-new-password"}) { accessToken } }')["login"]["accessToken"]
        print("login with the new password: ok")

        step("createWebhook (the secret is shown once)")
        data = api.gql("mutation($u: String!) { createWebhook(input: {url: $u, events: [ARTICLE_PUBLISHED]}) { secret webhook { id url events active } } }",
                       {"u": f"http://127.0.0.1:{http_port}/hooks"}, token=access)
        Receiver.secret = data["createWebhook"]["secret"]
        print("webhook", data["createWebhook"]["webhook"], "| secret", Receiver.secret[:10] + "…")

        step("createArticle, then the delivery at the receiver")
        api.gql('mutation { createArticle(input: {title: "Hello hooks", description: "d", body: "b", tags: ["e2e"]}) { slug } }', token=access)
        delivery = wait("the delivery", lambda: Receiver.seen)[0]
        for name in ("webhook-id", "webhook-timestamp", "webhook-signature"):
            print(f"{name}: {delivery['headers'][name]}")
        print("body:", delivery["body"])
        print("standardwebhooks.verify ->", delivery["verified"])
        assert delivery["verified"] is True, delivery["verified"]
        listed = api.gql("{ viewer { webhooks { nodes { deliveries { nodes { id status attempts } } } } } }", token=access)
        listed = listed["viewer"]["webhooks"]["nodes"][0]["deliveries"]["nodes"][0]
        print("Webhook.deliveries ->", listed)
        assert json.loads(delivery["body"])["type"] == "article.published"
        assert delivery["headers"]["webhook-id"] == listed["id"], "webhook-id is the delivery's id"
        print("\nPASS")
    finally:
        server.terminate()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
        sink.kill()
        receiver.shutdown()
        shutil.rmtree(mail_dir, ignore_errors=True)
        psql(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


def _listening(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
            return True
    except OSError:
        return False


if __name__ == "__main__":
    main()
