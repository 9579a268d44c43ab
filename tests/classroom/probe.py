"""What one local user can get from a TCP port: run as the would-be intruder (standard library
only, so it runs with any Python). Prints one JSON object: for each port and each way in (plain
HTTP, TLS without a client certificate, TLS with the caller's own cluster certificate), either
the HTTP status the server answered or why the connection was refused.

usage: probe.py TARGETS_JSON [CERT KEY]   TARGETS_JSON = [{"port": 1234, "method": "GET", "path": "/", "body": ""}]"""

import http.client
import json
import ssl
import sys


def attempt(port, method, path, body, tls, cert=None, key=None):
    try:
        if tls:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE  # the intruder does not care who answers
            if cert:
                ctx.load_cert_chain(cert, key)
            conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=5, context=ctx)
        else:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request(method, path, body=body or None, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        return {"status": response.status, "body": response.read(300).decode(errors="replace")}
    except (OSError, http.client.HTTPException, ssl.SSLError) as e:
        return {"refused": f"{type(e).__name__}: {e}"}


def main():
    targets = json.loads(sys.argv[1])
    cert, key = (sys.argv[2], sys.argv[3]) if len(sys.argv) > 3 else (None, None)
    results = []
    for t in targets:
        ways = {"http": attempt(t["port"], t["method"], t["path"], t.get("body"), tls=False),
                "tls": attempt(t["port"], t["method"], t["path"], t.get("body"), tls=True)}
        if cert:
            ways["tls+own-cert"] = attempt(t["port"], t["method"], t["path"], t.get("body"), True, cert, key)
        results.append({**t, "ways": ways})
    print(json.dumps(results))


if __name__ == "__main__":
    main()
