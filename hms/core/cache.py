"""Django's Redis cache, keeping one Redis client per connection pool.

Django's own backend builds a new `redis.Redis` object for every cache call, and building one
fills a table of several hundred response callbacks: about half a millisecond of CPU, twice on
every signed-in page (the session, the dashboard's counts). A client is only a handle on its
connection pool, safe to share between threads, so each process keeps one per pool.
"""

from django.core.cache.backends import redis as django_redis


class _PooledClients(django_redis.RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._client(connection_pool=self._get_connection_pool(index))
            self._clients[index] = client
        return client


class RedisCache(django_redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _PooledClients


def cache_is_shared() -> bool:
    """Whether the default cache is one that every server process sees (Redis), so that what one
    process changes there the others see at once."""
    from django.core.cache import caches

    return isinstance(caches["default"], django_redis.RedisCache)
