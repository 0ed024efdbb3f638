"""What each page repeats is worked out once: links, a role's menu, the cache's Redis client,
the signed-in user."""

import socket
import uuid

import pytest
from django.template import Context, Template
from django.urls import NoReverseMatch, reverse, set_script_prefix
from django.utils.functional import LazyObject

from hms.core import links, navigation
from hms.core.cache import RedisCache
from hms.core.permissions import Role


@pytest.fixture(autouse=True)
def _fresh_links():
    links._links.clear()
    yield
    links._links.clear()
    set_script_prefix("/")


def render(source: str, **context) -> str:
    return Template(source).render(Context(context))


def test_the_url_tag_gives_the_same_links_as_reverse_and_remembers_plain_ones():
    pk = uuid.uuid4()
    page = render("{% url 'scheduling:portal-cancel' pk %}|{% url 'core:dashboard' %}", pk=pk)
    assert page == f"{reverse('scheduling:portal-cancel', args=[pk])}|{reverse('core:dashboard')}"
    assert len(links._links) == 2
    render("{% url 'core:dashboard' %}")
    assert len(links._links) == 2  # asked again: answered from memory


def test_a_remembered_link_follows_the_script_prefix():
    before = render("{% url 'core:dashboard' %}")
    set_script_prefix("/hospital/")
    assert render("{% url 'core:dashboard' %}") == "/hospital" + before


def test_an_object_argument_is_reversed_afresh_not_remembered():
    class Thing:
        def __str__(self):
            return str(self.value)

    thing = Thing()
    thing.value = 7
    assert render("{% url 'accounts:staff-edit' t %}", t=thing).endswith("/7/")
    thing.value = 8
    assert render("{% url 'accounts:staff-edit' t %}", t=thing).endswith("/8/")
    assert not links._links


def test_the_url_tag_keeps_djangos_errors_and_as_var():
    with pytest.raises(NoReverseMatch):
        render("{% url 'no-such-view' %}")
    assert render("{% url 'no-such-view' as missing %}[{{ missing }}]") == "[]"
    assert render("{% url 'core:dashboard' as home %}{{ home }}") == reverse("core:dashboard")


@pytest.mark.django_db
def test_a_roles_menu_is_worked_out_once_and_again_when_the_menu_changes(make_user, monkeypatch):
    doctor = make_user(Role.DOCTOR)
    first = navigation.menu_for(doctor)
    assert navigation.menu_for(make_user(Role.DOCTOR)) is first
    monkeypatch.setattr(navigation, "MENU", [navigation.MENU[0]])
    assert navigation.menu_for(doctor) == [item for item in [navigation.MENU[0]] if item in first]
    doctor.is_active = False
    assert navigation.menu_for(doctor) == []


def _redis_answers() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _redis_answers(), reason="needs Redis on 127.0.0.1:6379")
def test_the_redis_cache_keeps_one_client_per_pool_and_still_works():
    cache = RedisCache("redis://127.0.0.1:6379/9", {})
    key = f"lean-pages-{uuid.uuid4()}"
    cache.set(key, {"n": 1}, 30)
    assert cache.get(key) == {"n": 1}
    client = cache._cache.get_client(write=True)
    assert cache._cache.get_client(write=True) is client
    cache.delete(key)
    assert cache.get(key) is None


@pytest.mark.django_db
def test_views_get_the_signed_in_user_itself_not_a_lazy_object(client_for, make_user):
    from hms.core import views

    seen = []
    original = views.cards_for
    views.cards_for = lambda user: seen.append(user) or original(user)
    try:
        user = make_user(Role.PATIENT)
        client_for(Role.PATIENT, user=user).get(reverse("core:dashboard"))
    finally:
        views.cards_for = original
    assert not isinstance(seen[0], LazyObject)
    assert seen[0] == user and seen[0].is_verified() is False


def test_a_remembered_fragment_is_rendered_once_per_set_of_values():
    from hms.core.templatetags import fragments

    fragments._fragments.clear()
    page = Template("{% remember name %}<b>{{ name }}</b> {{ other }}{% endremember %}")
    assert page.render(Context({"name": "Ann & co", "other": "1"})) == "<b>Ann &amp; co</b> 1"
    # Only the values named are looked at: the rest of the fragment is repeated as it was.
    assert page.render(Context({"name": "Ann & co", "other": "2"})) == "<b>Ann &amp; co</b> 1"
    assert page.render(Context({"name": "Bob", "other": "2"})) == "<b>Bob</b> 2"
    unhashable = {"a": 1}
    assert page.render(Context({"name": unhashable, "other": "3"})) == "<b>{&#x27;a&#x27;: 1}</b> 3"
    assert page.render(Context({"name": unhashable, "other": "4"})).endswith(" 4")  # not kept
    fragments._fragments.clear()


def test_a_remembered_fragment_follows_the_time_zone_and_the_links_prefix():
    from django.utils import timezone as tz

    from hms.core.templatetags import fragments

    fragments._fragments.clear()
    moment = tz.now().replace(hour=12, minute=0)
    page = Template(
        "{% remember when %}{{ when|date:'H:i' }} {% url 'core:dashboard' %}{% endremember %}"
    )
    with tz.override("UTC"):
        assert page.render(Context({"when": moment})) == "12:00 /dashboard/"
    with tz.override("Asia/Tokyo"):
        assert page.render(Context({"when": moment})) == "21:00 /dashboard/"
    set_script_prefix("/hospital/")
    with tz.override("UTC"):
        assert page.render(Context({"when": moment})) == "12:00 /hospital/dashboard/"
    fragments._fragments.clear()


def test_a_static_files_url_is_worked_out_once_per_process(tmp_path):
    from hms.core.static_files import ManifestStaticFilesStorage

    (tmp_path / "staticfiles.json").write_text(
        '{"paths": {"core/app.css": "core/app.abc123.css"}, "version": "1.1", "hash": "x"}'
    )
    storage = ManifestStaticFilesStorage(location=tmp_path, base_url="/static/")
    assert storage.url("core/app.css") == "/static/core/app.abc123.css"
    storage.hashed_files["core/app.css"] = "core/app.def456.css"  # as a new manifest would
    assert storage.url("core/app.css") == "/static/core/app.abc123.css"
    assert storage.url("core/app.css", force=True) == "/static/core/app.def456.css"
