"""Settings of the benchmark's server: the application's own, plus the bench-only bare page.

Only the benchmarks run with these (bench.serving.bench_settings sets
DJANGO_SETTINGS_MODULE=bench.settings); production and the tests use config.settings, where the
bare page does not exist.
"""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
