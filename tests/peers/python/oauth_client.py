#!/usr/bin/python3
"""A standard OAuth 2.0 client of the identity service: python3-requests (HTTP/1.1) and python3-jwt.

Reads the discovery document (RFC 8414), signs a private_key_jwt client assertion (RFC 7523; header
typ client-authentication+jwt, aud = the issuer) with the partner's key, and asks the discovered token
endpoint for a client-credentials token. Nothing of the mesh's own code is involved.

Usage: oauth_client.py <issuer> <client_id> <private key PEM file> <CA certificate PEM file> [scope]
Prints one JSON line: {"http_version": "1.1", "status": int, "body": {...}, "token_endpoint": str}.
"""

import json
import sys
import time
import uuid

import jwt
import requests


def main(argv):
    issuer, client_id, key_file, ca_file = argv[1:5]
    scope = argv[5] if len(argv) > 5 else None
    with requests.Session() as session:
        # Per request: a session's verify loses to REQUESTS_CA_BUNDLE from the environment.
        discovery = session.get(issuer.rstrip("/") + "/.well-known/openid-configuration", verify=ca_file, timeout=30)
        discovery.raise_for_status()
        metadata = discovery.json()
        now = int(time.time())
        with open(key_file, "rb") as f:
            key = f.read()
        assertion = jwt.encode(
            {"iss": client_id, "sub": client_id, "aud": metadata["issuer"], "jti": str(uuid.uuid4()), "iat": now, "exp": now + 60},
            key,
            algorithm="ES256",
            headers={"typ": "client-authentication+jwt"},
        )
        form = {
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion,
        }
        if scope:
            form["scope"] = scope
        response = session.post(metadata["token_endpoint"], data=form, verify=ca_file, timeout=30)
        version = {10: "1.0", 11: "1.1"}.get(response.raw.version, str(response.raw.version))
        print(json.dumps({"http_version": version, "status": response.status_code, "body": response.json(), "token_endpoint": metadata["token_endpoint"]}))


if __name__ == "__main__":
    main(sys.argv)
