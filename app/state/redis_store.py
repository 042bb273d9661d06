"""The state store in Redis, shared by every replica of the service.

Keys carry a prefix (``jimeng-api:``) so the service can share a Redis with others. Each operation is one
atomic command: ``SET NX PX`` for create, and two small Lua scripts (compare-and-swap, increment keeping the
expiry) that Redis runs without interleaving anything else.

The URL may hold a password: it is masked in the repr and in every error this module raises. redis-py
connects lazily and reopens its connections in a forked process, so the store can be built before a fork.
Under gevent its sockets are the patched ones; nothing else is needed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypeVar

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from app.domain.store import StoreUnavailableError
from app.secrets import mask, mask_url, url_passwords

PREFIX = "jimeng-api:"

# KEYS[1]; ARGV: expected, "set" or "del", new value, ttl in ms
_SWAP = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == 'del' then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[4]) end
return 1
"""
# KEYS[1]; ARGV: delta, ttl in ms. A key without expiry (-1: just created by INCRBY) gets the ttl.
_ADD = """
local total = redis.call('INCRBY', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) == -1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return total
"""

# Lease sets are sorted sets scored by each member's expiry in Redis's own clock (TIME: replicas' clocks may
# differ). KEYS[1]; ARGV: member, ttl in ms, limit (-1: none). The set expires with its longest lease.
_LEASE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  local limit = tonumber(ARGV[3])
  if limit >= 0 and redis.call('ZCARD', KEYS[1]) >= limit then return 0 end
end
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return 1
"""
# KEYS[1]; ARGV: member. A member whose lease ran out is not held any more.
_UNLEASE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[1], ARGV[1])
if score and tonumber(score) > now then return 1 end
return 0
"""
_LEASES = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf')
"""

T = TypeVar("T")


def _ms(ttl: float) -> int:
    if not (ttl > 0 and math.isfinite(ttl)):
        raise ValueError(f"a state store ttl must be a positive number of seconds, not {ttl!r}")
    return max(1, math.ceil(ttl * 1000))


class RedisStore:
    """``StateStore`` in the Redis at ``url`` (redis://, rediss:// or unix://)."""

    def __init__(self, url: str, *, prefix: str = PREFIX, timeout: float = 3.0) -> None:
        self._url = url
        self._secrets = sorted(url_passwords(url), key=len, reverse=True)
        self.prefix = prefix
        self._client: Any = self._guard(
            lambda: redis.Redis.from_url(
                url,
                decode_responses=True,
                socket_connect_timeout=timeout,
                socket_timeout=timeout,
                # one immediate retry (a pooled connection Redis closed); no backoff: a store that is down
                # must not hold a request for seconds
                retry=Retry(NoBackoff(), 1),
            )
        )
        self._swap = self._client.register_script(_SWAP)
        self._add = self._client.register_script(_ADD)
        self._lease = self._client.register_script(_LEASE)
        self._unlease = self._client.register_script(_UNLEASE)
        self._leases = self._client.register_script(_LEASES)

    def __repr__(self) -> str:
        return f"RedisStore({mask_url(self._url)!r})"

    @property
    def url(self) -> str:
        """The URL with its password masked."""
        return mask_url(self._url)

    # -- StateStore -----------------------------------------------------------------------------------

    def create(self, key: str, value: str, ttl: float) -> bool:
        ms = _ms(ttl)
        return self._guard(lambda: bool(self._client.set(self.prefix + key, value, nx=True, px=ms)))

    def get(self, key: str) -> str | None:
        found = self._guard(lambda: self._client.get(self.prefix + key))
        return None if found is None else str(found)

    def put(self, key: str, value: str, ttl: float) -> None:
        ms = _ms(ttl)
        self._guard(lambda: self._client.set(self.prefix + key, value, px=ms))

    def swap(self, key: str, expected: str, value: str | None, ttl: float) -> bool:
        ms = _ms(ttl)
        args: list[str | int] = [expected, "del", "", ms] if value is None else [expected, "set", value, ms]
        return self._guard(lambda: int(self._swap(keys=[self.prefix + key], args=args)) == 1)

    def delete(self, key: str) -> None:
        self._guard(lambda: self._client.delete(self.prefix + key))

    def add(self, key: str, delta: int, ttl: float) -> int:
        ms = _ms(ttl)
        return self._guard(lambda: int(self._add(keys=[self.prefix + key], args=[int(delta), ms])))

    def lease(self, key: str, member: str, ttl: float, limit: int | None = None) -> bool:
        args: list[str | int] = [member, _ms(ttl), -1 if limit is None else max(0, int(limit))]
        return self._guard(lambda: int(self._lease(keys=[self._set_key(key)], args=args)) == 1)

    def unlease(self, key: str, member: str) -> bool:
        return self._guard(lambda: int(self._unlease(keys=[self._set_key(key)], args=[member])) == 1)

    def leases(self, key: str) -> list[str]:
        found = self._guard(lambda: self._leases(keys=[self._set_key(key)]))
        return sorted(str(member) for member in found)

    def close(self) -> None:
        self._guard(self._client.close)

    def _set_key(self, key: str) -> str:
        """Lease sets live apart from the plain keys (a sorted set and a string cannot share a name)."""
        return f"{self.prefix}lease:{key}"

    # -- errors -----------------------------------------------------------------------------------------

    def _guard(self, call: Callable[[], T]) -> T:
        """Run one Redis call; its failure becomes StoreUnavailableError, with the password masked."""
        try:
            return call()
        except (redis.RedisError, ValueError) as err:
            message = f"state store {self.url}: {type(err).__name__}: {err}"
            for secret in self._secrets:
                message = message.replace(secret, mask(secret))
            raise StoreUnavailableError(message) from None
