"""Product photos in headless Chromium, served by a local image server: lazy and sized, a placeholder for the one
that 404s, zoom opened and closed with the keyboard and the mouse; and the progress figures after a few submits."""

import struct
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.conftest import log_in
from tests.e2e.test_annotate_keyboard import wait_for_task
from tests.factories import DatasetFactory, LabelFactory, ProductFactory, TaskFactory, member


def png(width: int = 8, height: int = 6) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\xcc\x33\x33" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


class Photos(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/ok.png":
            body = png()
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
        else:
            body = b"not found"
            self.send_response(404)
            self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def image_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Photos)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.browser
def test_photos_load_fail_to_a_placeholder_and_zoom_with_keyboard_and_mouse(page, transactional_db, image_server):
    dataset = DatasetFactory(name="Photo shop")
    LabelFactory(dataset=dataset, name="Shoes", path="Shoes")
    product = ProductFactory(
        dataset=dataset, image_url=f"{image_server}/ok.png", attributes={"image_url_2": f"{image_server}/missing.png"}
    )
    TaskFactory(dataset=dataset, product=product)
    member(dataset, "ann")

    log_in(page, "ann")
    page.goto(f"/datasets/{dataset.pk}/annotate/")
    wait_for_task(page)
    main, extra = page.locator(".photo-zoom").nth(0), page.locator(".photo-zoom").nth(1)
    page.wait_for_function("document.querySelector('.photo-main img').naturalWidth > 0")
    assert page.get_attribute(".photo-main img", "loading") == "lazy"
    box = main.bounding_box()
    assert box["width"] == pytest.approx(box["height"], abs=1)  # a square box, whatever the photo's shape

    page.wait_for_selector(".photo-zoom.broken .photo-missing", state="visible")
    assert extra.is_disabled() and not page.locator(".photo-zoom.broken img").is_visible()

    # Keyboard: Tab reaches the photo, Enter opens it, keys do not reach the page's shortcuts, Esc closes it.
    main.focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("#photo-dialog[open]")
    assert page.get_attribute("#photo-dialog .photo-dialog-image", "src") == f"{image_server}/ok.png"
    assert page.evaluate("document.activeElement.id") == "photo-dialog-close"
    page.keyboard.press("1")
    assert page.get_attribute("#answer-label", "value") == ""
    page.keyboard.press("Escape")
    page.wait_for_selector("#photo-dialog:not([open])", state="attached")
    assert page.evaluate("document.activeElement.classList.contains('photo-main')")

    # Mouse: a click opens it, the close button and a click on the backdrop close it.
    main.click()
    page.wait_for_selector("#photo-dialog[open]")
    page.click("#photo-dialog-close")
    page.wait_for_selector("#photo-dialog:not([open])", state="attached")
    main.click()
    page.wait_for_selector("#photo-dialog[open]")
    page.mouse.click(5, 5)
    page.wait_for_selector("#photo-dialog:not([open])", state="attached")


@pytest.mark.browser
def test_the_progress_figures_follow_the_submits(page, transactional_db):
    dataset = DatasetFactory(name="Counting shop")
    label = LabelFactory(dataset=dataset, name="Audio", path="Audio")
    TaskFactory.create_batch(5, dataset=dataset, suggestions=[[label.pk, 0.74]])
    member(dataset, "ann")

    log_in(page, "ann")
    page.goto(f"/datasets/{dataset.pk}/annotate/")
    task = wait_for_task(page)
    assert page.inner_text("#count-remaining") == "5" and page.inner_text("#count-session") == "0"
    assert page.inner_text("#pace") == "—"
    assert page.locator("#shortcut-1.prob-strong .prob-fill.p-75").count() == 1
    for _ in range(3):
        page.keyboard.press("1")
        page.keyboard.press("1")
        task = wait_for_task(page, not_task=task)
    assert page.inner_text("#count-submitted") == "3" and page.inner_text("#count-remaining") == "2"
    assert page.inner_text("#count-today") == "3" and page.inner_text("#count-session") == "3"
    assert page.inner_text("#pace").endswith("/h")
