"""A CI provider's OIDC token issuer (GitHub Actions, GitLab CI), which cannot run here: it signs
tokens with keys of its own and publishes them as a JWKS on loopback, as the providers do at
/.well-known/jwks. `rotate()` adds a key with a new kid, as a provider does before it signs with
it; `fetches` counts how often the JWKS was read."""

from __future__ import annotations

import base64
import json
import socket
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

AUDIENCE = "https://carapulse.example.com"
JWKS_PATH = "/.well-known/jwks"


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    algorithm: str

    def jwk(self) -> dict[str, Any]:
        public = self.private.public_key()
        encoder = RSAAlgorithm if self.algorithm.startswith("RS") else ECAlgorithm
        return {**json.loads(encoder.to_jwk(public)), "kid": self.kid, "use": "sig", "alg": self.algorithm}


class FakeOidcProvider:
    def __init__(self) -> None:
        self.published: list[SigningKey] = []
        self.fetches = 0
        self.issuer = ""
        self._runner: web.AppRunner | None = None
        self.rotate()

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_get(JWKS_PATH, self._jwks)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        await web.SockSite(self._runner, sock).start()
        self.issuer = f"http://127.0.0.1:{sock.getsockname()[1]}"
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def jwks_url(self) -> str:
        return self.issuer + JWKS_PATH

    @property
    def key(self) -> SigningKey:
        """The key tokens are signed with: the newest."""
        return self.published[-1]

    def rotate(self, *, algorithm: str = "RS256", drop_old: bool = False) -> SigningKey:
        private = (
            rsa.generate_private_key(public_exponent=65537, key_size=2048)
            if algorithm.startswith("RS")
            else ec.generate_private_key(ec.SECP256R1())
        )
        key = SigningKey(kid=f"key-{len(self.published) + 1}", private=private, algorithm=algorithm)
        self.published = [key] if drop_old else [*self.published, key]
        return key

    def claims(self, **changes: Any) -> dict[str, Any]:
        """GitHub Actions' claims for a deploy job of acme/shop on main; `changes` override (None drops)."""
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": AUDIENCE,
            "sub": "repo:acme/shop:environment:prod",
            "repository": "acme/shop",
            "repository_owner": "acme",
            "ref": "refs/heads/main",
            "environment": "prod",
            "workflow": "deploy",
            "run_id": "4242",
            "iat": now,
            "nbf": now,
            "exp": now + 300,
        }
        claims.update(changes)
        return {name: value for name, value in claims.items() if value is not None}

    def token(
        self, claims: dict[str, Any] | None = None, *, key: SigningKey | None = None, **header: Any
    ) -> str:
        key = key or self.key
        return jwt.encode(
            claims or self.claims(), key.private, algorithm=key.algorithm, headers={"kid": key.kid, **header}
        )

    def unsigned(self, claims: dict[str, Any] | None = None) -> str:
        """An `alg: none` token naming a published key, as a forger would send it."""
        header = {"alg": "none", "typ": "JWT", "kid": self.key.kid}
        return f"{_segment(header)}.{_segment(claims or self.claims())}."

    async def _jwks(self, _: web.Request) -> web.Response:
        self.fetches += 1
        return web.json_response({"keys": [key.jwk() for key in self.published]})


def tampered(token: str, **changes: Any) -> str:
    """The token with its claims changed and its signature kept."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return f"{header}.{_segment({**claims, **changes})}.{signature}"


def _segment(value: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()
