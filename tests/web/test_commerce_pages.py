"""Every commerce page: strict CSP and no inline code, our layout, 404 for unknown ids."""

from __future__ import annotations

from tests.web.conftest import assert_no_inline_code

UNKNOWN = "00000000-0000-7000-8000-000000000000"


def test_pages_render_with_strict_csp(owner_client, stock, placed_order):
    from storesync.inventory.selectors import level_list

    ws, variants, main, _store = stock
    level = level_list(workspace_id=ws).items[0]
    for path in ["/", "/orders/", f"/orders/{placed_order.id}/", "/products/", "/products/new",
                 f"/products/{variants['KURTA-M'].product_id}/", "/inventory/",
                 f"/inventory/{level.id}/", "/inventory/receive", "/settings/locations/",
                 f"/settings/locations/{main.id}/"]:
        response = owner_client.get(path)
        assert response.status_code == 200, path
        assert "script-src 'self'" in response["Content-Security-Policy"], path
        html = response.content.decode()
        assert "/static/storesync/app.css" in html, path
        assert_no_inline_code(html, path)


def test_unknown_ids_are_404_pages(owner_client):
    for path in [f"/orders/{UNKNOWN}/", f"/products/{UNKNOWN}/", f"/inventory/{UNKNOWN}/",
                 f"/settings/locations/{UNKNOWN}/"]:
        response = owner_client.get(path)
        assert response.status_code == 404 and "Not found" in response.content.decode(), path
    for path in [f"/orders/{UNKNOWN}/fulfil", f"/products/{UNKNOWN}/archive",
                 f"/inventory/{UNKNOWN}/adjust", f"/settings/locations/{UNKNOWN}/active"]:
        assert owner_client.post(path, {"delta": "1", "reason": "x"}).status_code == 404, path


def test_empty_workspace_pages_say_what_to_do(owner_client):
    assert "No orders yet" in owner_client.get("/orders/").content.decode()
    assert "Create the first one" in owner_client.get("/products/").content.decode()
    assert "Receive stock" in owner_client.get("/inventory/").content.decode()
    assert "No locations yet" in owner_client.get("/settings/locations/").content.decode()
    receive = owner_client.get("/inventory/receive").content.decode()
    assert "There is no active location yet" in receive
