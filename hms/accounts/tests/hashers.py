"""A cheap Argon2 for the test suite: same algorithm and code path, far less memory and time.

conftest.py puts it first in PASSWORD_HASHERS for every test; production settings keep
Django's Argon2 parameters (asserted in test_password_hashing).
"""

from django.contrib.auth.hashers import Argon2PasswordHasher


class FastArgon2PasswordHasher(Argon2PasswordHasher):
    time_cost = 1
    memory_cost = 64
    parallelism = 1
