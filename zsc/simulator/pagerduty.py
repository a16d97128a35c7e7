"""Fake PagerDuty REST API v2: escalation policies, who is on call at each level, API
keys and OAuth client-credentials tokens. Shaped for pdpyras' APISession.

People are direct targets of an escalation level (not schedules), so on-call entries
carry `schedule`, `start` and `end` as null, as PagerDuty does for such targets.
"""

from __future__ import annotations

from typing import Any, Iterable

from zsc.simulator.base import Abort, Fault, OAuthClients, Request, Response, Service, TokenStore, route

TOKEN_TTL = 3600
MAX_LIMIT = 100


def _error(status: int, message: str, code: int, **extra: Any) -> Response:
    return Response(status, {"error": {"message": message, "code": code, **extra}})


class PagerDutySim(Service):
    name = "pagerduty"

    def __init__(self, api_key: str = "pd-sim-key") -> None:
        super().__init__()
        self.api_key = api_key
        self.tokens = TokenStore()
        self.oauth_clients = OAuthClients()
        self.policies: dict[str, str] = {}  # id -> name
        self._levels: dict[str, dict[int, list[str]]] = {}  # policy id -> level -> user ids
        self._users: dict[str, dict] = {}  # user id -> user
        self._user_by_email: dict[str, str] = {}
        self.add_api_key(api_key)

    # ------------------------------------------------------------------ control surface

    def add_api_key(self, key: str) -> None:
        with self.lock:
            self.tokens.add(key)

    def revoke(self, key: str) -> None:
        """Revoke an API key or an OAuth access token."""
        with self.lock:
            self.tokens.revoke(key)

    def register_oauth_client(self, client_id: str, client_secret: str) -> None:
        with self.lock:
            self.oauth_clients.register(client_id, client_secret)

    def add_policy(self, policy_id: str, name: str) -> None:
        with self.lock:
            self.policies[policy_id] = name
            self._levels.setdefault(policy_id, {})

    def set_oncall(self, policy_id: str, level: int, people: Iterable[tuple[str, str]]) -> None:
        """Who is on call at `level` of a policy, as (name, email) pairs; [] clears the level.
        An unknown policy is created on the way."""
        with self.lock:
            if policy_id not in self.policies:
                self.add_policy(policy_id, f"Policy {policy_id}")
            user_ids = [self._user(name, email) for name, email in people]
            if user_ids:
                self._levels[policy_id][level] = user_ids
            else:
                self._levels[policy_id].pop(level, None)

    def clear_oncall(self, policy_id: str) -> None:
        with self.lock:
            self._levels.get(policy_id, {}).clear()

    # ------------------------------------------------------------------ base hooks

    def authenticate(self, req: Request, endpoint: str) -> Response | None:
        if endpoint == "oauth.token":  # authenticated by the client credentials instead
            return None
        token, problem = self.tokens.check(self._presented_key(req))
        if problem:
            return _error(401, "Unauthorized", 2006)
        req.principal = token
        return None

    def fault_response(self, fault: Fault) -> Response:
        if fault.kind == "429":
            response = _error(429, "Rate Limit Exceeded", 2020)
            response.headers["ratelimit-reset"] = str(int(fault.retry_after))
            return response
        message = "Service Unavailable" if fault.kind == "503" else "Internal Server Error"
        return _error(int(fault.kind), message, 2000)

    def not_found(self, req: Request) -> Response:
        return _error(404, "Not Found", 2100)

    # ------------------------------------------------------------------ REST endpoints

    @route("GET", "/oncalls", "oncalls")
    def _oncalls(self, req: Request) -> Response:
        try:
            limit = req.int_arg("limit", 25)
            offset = req.int_arg("offset", 0)
        except ValueError:
            raise Abort(_error(400, "Invalid Input Provided", 2001, errors=["limit and offset must be integers"]))
        if limit < 1 or offset < 0:
            raise Abort(_error(400, "Invalid Input Provided", 2001, errors=["limit and offset out of range"]))
        limit = min(limit, MAX_LIMIT)
        policy_ids = set(req.args("escalation_policy_ids[]"))
        user_ids = set(req.args("user_ids[]"))
        full_users = "users" in req.args("include[]")
        # `earliest` keeps one entry per (policy, level, user); with direct targets there
        # is only ever one, so it is accepted and changes nothing.
        entries = [
            (policy_id, level, user_id)
            for policy_id, levels in self._levels.items() if not policy_ids or policy_id in policy_ids
            for level in sorted(levels)
            for user_id in levels[level] if not user_ids or user_id in user_ids
        ]
        page = entries[offset:offset + limit]
        return Response(200, {
            "oncalls": [self._oncall_json(p, level, u, full_users) for p, level, u in page],
            "limit": limit,
            "offset": offset,
            "more": offset + limit < len(entries),
            "total": len(entries) if req.flag("total") else None,
        })

    @route("GET", r"/escalation_policies/(?P<id>[^/]+)", "escalation_policies.show")
    def _policy(self, req: Request) -> Response:
        policy_id = req.params["id"]
        if policy_id not in self.policies:
            raise Abort(self.not_found(req))
        levels = self._levels[policy_id]
        policy = self._policy_ref(policy_id) | {
            "type": "escalation_policy",
            "name": self.policies[policy_id],
            "escalation_rules": [
                {"escalation_delay_in_minutes": 30, "targets": [self._user_json(u, full=False) for u in levels[level]]}
                for level in sorted(levels)
            ],
        }
        return Response(200, {"escalation_policy": policy})

    @route("POST", "/oauth/token", "oauth.token")
    def _oauth_token(self, req: Request) -> Response:
        # Real PagerDuty serves this at identity.pagerduty.com; errors follow RFC 6749.
        if req.arg("grant_type") != "client_credentials":
            raise Abort(Response(400, {"error": "unsupported_grant_type"}))
        if self.oauth_clients.check(*req.client_credentials()):
            raise Abort(Response(401, {"error": "invalid_client", "error_description": "Client authentication failed"}))
        scope = req.arg("scope") or ""
        token = self.tokens.issue("pdus+_", scope.split(), ttl=TOKEN_TTL)
        return Response(200, {"access_token": token.value, "token_type": "bearer", "expires_in": TOKEN_TTL,
                              "scope": scope})

    # ------------------------------------------------------------------ helpers

    @staticmethod
    def _presented_key(req: Request) -> str | None:
        # pdpyras sends "Token token=KEY" for API keys and "Bearer TOKEN" for OAuth.
        auth = req.header("authorization") or ""
        scheme, _, value = auth.partition(" ")
        if scheme.lower() == "token" and value.startswith("token="):
            return value[len("token="):].strip() or None
        return req.bearer()

    def _user(self, name: str, email: str) -> str:
        """The id of the person with `email`, created on first sight (ids stay stable)."""
        user_id = self._user_by_email.get(email.lower())
        if user_id is None:
            user_id = f"PU{len(self._users) + 1:05d}"
            self._user_by_email[email.lower()] = user_id
        self._users[user_id] = {"id": user_id, "name": name, "email": email}
        return user_id

    def _user_json(self, user_id: str, full: bool) -> dict:
        user = self._users[user_id]
        if not full:
            return {"id": user_id, "type": "user_reference", "summary": user["name"]}
        return {"id": user_id, "type": "user", "summary": user["name"], "name": user["name"],
                "email": user["email"], "time_zone": "Etc/UTC", "role": "user"}

    def _policy_ref(self, policy_id: str) -> dict:
        name = self.policies[policy_id]
        return {"id": policy_id, "type": "escalation_policy_reference", "summary": name}

    def _oncall_json(self, policy_id: str, level: int, user_id: str, full_users: bool) -> dict:
        return {
            "escalation_policy": self._policy_ref(policy_id),
            "escalation_level": level,
            "schedule": None,
            "user": self._user_json(user_id, full_users),
            "start": None,
            "end": None,
        }
