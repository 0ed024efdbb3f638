"""The ratios `make bench` prints: targets met or not, and the framework's ceiling for bookings."""

import pytest

from bench.run_all import TARGETS, ratios


def figures(**more):
    return {
        "bare": {"rps": 600.0},
        "dashboard": {"rps": 330.0},
        "my_appointments": {"rps": 270.0},
        "storm": {"bookings_per_s": 110.0, "outcomes": {"201": 1100, "409": 900}},
        **more,
    }


def by_title(lines):
    return {title.strip(): (ratio, target) for title, ratio, target in lines}


def test_pages_are_measured_against_the_bare_page():
    lines = by_title(ratios(figures()))
    assert lines["patient dashboard / bare page"] == (pytest.approx(0.55), TARGETS["page_ratio"])
    assert lines["My appointments / bare page"] == (pytest.approx(0.45), TARGETS["page_ratio"])
    assert "bookings/s / pgbench TPS" not in lines  # no PostgreSQL, no pgbench: SQLite's half


def test_the_ceiling_is_what_bookings_as_cheap_as_the_bare_page_would_reach():
    lines = by_title(ratios(figures(pgbench_tps=5000.0)))
    assert lines["bookings/s / pgbench TPS"] == (pytest.approx(0.022), TARGETS["booking_ratio"])
    # 600 requests/s of which 55 % book (the storm's share of 201s): 330 bookings/s of 5,000.
    ceiling, target = lines["ceiling: bare page x 201 share"]
    assert (ceiling, target) == (pytest.approx(0.066), None)
