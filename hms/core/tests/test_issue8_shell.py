"""The page shell under the Content-Security-Policy: an icon on every page, the API docs with
no inline style (issue 8, point 21)."""

import pytest
from django.urls import reverse


def test_every_page_names_its_icon_so_the_browser_asks_for_no_favicon_ico(client, db):
    response = client.get(reverse("core:landing"))
    assert b'rel="icon" href="/static/core/favicon.svg"' in response.content


@pytest.mark.django_db
def test_the_api_docs_page_has_no_inline_style_for_the_csp_to_block(client):
    response = client.get(reverse("api-docs"))
    assert response.status_code == 200
    assert b"<style" not in response.content and b"style=" not in response.content
    assert b"core/swagger.css" in response.content
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
