"""The portal in a real Chromium (Debian's, driven by Playwright) against the local
federation `make run` starts: three regions, their services, their portals and the demo
data. Every page visited is saved as a screenshot under the test's temporary directory (and,
with PORTAL_SCREENSHOTS_DIR set, the README's two under that folder: `make screenshots`)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from alliance.membership.v1 import membership_pb2 as mpb
from alliance.membership.v1 import membership_pb2_grpc as mpb_grpc
from alliance.sharing.v1 import sharing_pb2 as spb
from alliance.sharing.v1 import sharing_pb2_grpc as spb_grpc
from playwright.sync_api import Browser, Page, expect, sync_playwright
from prometheus_client.parser import text_string_to_metric_families
from yrd_alliance.deployment.channels import GrpcTarget
from yrd_alliance.deployment.issuer import Issuer
from yrd_alliance.kernel.auth import Role

from tests.conftest import sample_carrier
from tests.test_local_run import _wait_for_line, free_ports

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# As root, with no network but loopback: no sandbox, nothing fetched in the background.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
README_SHOTS = ("supermarket", "map")


@dataclass
class Alliance:
    base: Path
    portals: dict[str, str]  # region → https URL
    metrics: dict[str, str]  # region → the portal's Prometheus endpoint
    grpc: dict[tuple[str, str], GrpcTarget]  # (region, service) → target
    issuer: Issuer
    shots: Path

    def token(self, role: Role, **claims: str) -> str:
        return self.issuer.sign(subject=f"test-{uuid.uuid4().hex[:6]}", role=role, **claims)

    def md(self, role: Role = Role.PARTNER, **claims: str) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.token(role, **claims)}"),)

    @property
    def verify(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.base / "tls/ca.pem")

    def http(self, region: str) -> httpx.Client:
        return httpx.Client(base_url=self.portals[region], verify=self.verify)

    def shoot(self, page: Page, name: str) -> None:
        path = self.shots / f"{name}.png"
        page.screenshot(path=path, full_page=True)
        published = os.environ.get("PORTAL_SCREENSHOTS_DIR")
        if published and name in README_SHOTS:
            Path(published).mkdir(parents=True, exist_ok=True)
            shutil.copy(path, Path(published) / f"portal-{name}.png")


@pytest.fixture(scope="module")
def alliance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Alliance]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (make test installs it)")
    base = tmp_path_factory.mktemp("portal") / "var"
    command = [
        str(BIN / "alliance"), "up", "--base-dir", str(base), *free_ports(),
    ]  # fmt: skip
    proc = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "COLUMNS": "400"},
        start_new_session=True,
    )
    lines: list[str] = []
    try:
        _wait_for_line(proc, "ready", lines, timeout=150)
        state = json.loads((base / "state.json").read_text())
        ca = base / "tls" / "ca.pem"
        shots = base.parent / "screenshots"
        shots.mkdir()
        yield Alliance(
            base,
            {p["region"]: p["target"] for p in state["portals"]},
            {p["region"]: p["metrics"] for p in state["portals"]},
            {(e["region"], e["service"]): GrpcTarget(e["target"], ca) for e in state["endpoints"]},
            Issuer(base / "issuer"),
            shots,
        )
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _page(browser: Browser) -> Page:
    # The portals' certificates come from the federation's own CA, which Chromium does not know.
    return browser.new_context(ignore_https_errors=True, locale="zh-CN").new_page()


def _sign_in(page: Page, portal: str, token: str) -> None:
    page.goto(f"{portal}/signin")
    page.fill("textarea[name=token]", token)
    page.click("#sign-in")
    expect(page.locator(".who")).to_contain_text("carrier")


def test_searching_路演_finds_the_roadshow_halls_of_all_three_regions(
    alliance: Alliance, browser: Browser
) -> None:
    page = _page(browser)
    deadline = time.monotonic() + 30  # hz's copy of the others' catalogues, as the demo loads
    while True:
        page.goto(alliance.portals["hz"])
        page.fill("input[name=q]", "路演厅")
        page.press("input[name=q]", "Enter")
        expect(page.locator("li.card").first).to_be_visible()
        regions = {card.get_attribute("data-region") for card in page.locator("li.card").all()}
        if regions == {"sh", "hz", "zjg"} or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    alliance.shoot(page, "supermarket")
    facets = page.locator(".facets").inner_text()
    assert regions == {"sh", "hz", "zjg"}, f"the first page shows {regions}"
    assert all(name in facets for name in ("上海", "杭州", "张家港"))
    assert all("路演厅" in title for title in page.locator("li.card h3").all_inner_texts())
    page.click("text=English")
    expect(page.locator("h1")).to_have_text("Service supermarket")


def test_a_carrier_in_hz_asks_for_an_sh_lab_and_sees_it_approved_without_reloading(
    alliance: Alliance, browser: Browser
) -> None:
    partner = alliance.md()
    with alliance.grpc["sh", "sharing"].channel() as channel:
        found = spb_grpc.SharingServiceStub(channel).SearchResources(
            spb.SearchResourcesRequest(
                query="检测实验室",
                region="regions/sh",
                category=spb.CATEGORY_LAB_EQUIPMENT,
                page_size=50,
            ),
            metadata=partner,
        )
    lab = next(r for r in found.resources if r.capacity >= 1)
    with alliance.grpc["hz", "membership"].channel() as channel:
        carriers = mpb_grpc.MembershipServiceStub(channel).ListCarriers(
            mpb.ListCarriersRequest(parent="regions/hz"), metadata=partner
        )
    asker = carriers.carriers[0].name
    purpose = f"材料检测 {uuid.uuid4().hex[:8]}"

    hz = _page(browser)
    _sign_in(hz, alliance.portals["hz"], alliance.token(Role.CARRIER, carrier=asker))
    _, region, _, resource_id = lab.name.split("/")
    hz.goto(f"{alliance.portals['hz']}/resources/{region}/{resource_id}")
    alliance.shoot(hz, "resource")
    hz.fill("input[name=purpose]", purpose)
    hz.click("#ask")
    row = hz.locator("tr[data-name]", has_text=purpose)
    expect(row).to_be_visible()
    alliance.shoot(hz, "requests")

    sh = _page(browser)  # a second browser context: the owner, at its own region's portal
    _sign_in(sh, alliance.portals["sh"], alliance.token(Role.CARRIER, carrier=lab.owner))
    approve = sh.locator("tr[data-name]", has_text=lab.title).locator("button.approve")
    deadline = time.monotonic() + 20
    while not approve.count():  # the owner's queue fills once the request crossed to sh
        assert time.monotonic() < deadline, "the request never reached the owner's queue"
        time.sleep(0.3)
        sh.goto(f"{alliance.portals['sh']}/incoming")
    alliance.shoot(sh, "incoming")
    approve.first.click()

    state = row.locator("td.state")
    expect(state).to_have_attribute("data-code", "REQUEST_STATE_APPROVED", timeout=15_000)
    assert "已批准" in state.inner_text()
    alliance.shoot(hz, "requests-approved")


def test_the_map_shows_three_regions_and_ten_carriers(alliance: Alliance, browser: Browser) -> None:
    page = _page(browser)
    page.goto(f"{alliance.portals['zjg']}/map")
    expect(page.locator("svg.map circle.carrier")).to_have_count(10)
    expect(page.locator("svg.map g.region")).to_have_count(3)
    assert page.locator("#carriers tbody tr").count() == 10
    lawyers = [int(x) for x in page.locator("#carriers tbody tr td:nth-child(7)").all_inner_texts()]
    assert sum(lawyers) == 40, "four lawyers paired with each of the ten carriers"
    alliance.shoot(page, "map")
    page.goto(f"{alliance.portals['zjg']}/pairs")
    expect(page.locator("tr.pair")).to_have_count(40)
    alliance.shoot(page, "pairs")


def test_the_live_feed_shows_a_carrier_created_through_grpc_within_two_seconds(
    alliance: Alliance, browser: Browser
) -> None:
    page = _page(browser)
    page.goto(f"{alliance.portals['hz']}/live")
    expect(page.locator("ol.feed li").first).to_be_visible()
    name = f"实时测试孵化器{uuid.uuid4().hex[:6]}"
    with alliance.grpc["sh", "membership"].channel() as channel:
        mpb_grpc.MembershipServiceStub(channel).CreateCarrier(
            mpb.CreateCarrierRequest(
                parent="regions/sh", carrier=sample_carrier(display_name=name)
            ),
            metadata=alliance.md(Role.OPERATOR, region="sh"),
        )
    created = time.monotonic()
    expect(page.locator("ol.feed li", has_text=name)).to_be_visible(timeout=2_000)
    assert time.monotonic() - created < 2.0
    alliance.shoot(page, "live")


def test_a_page_without_a_session_shows_no_purposes_and_no_findings(
    alliance: Alliance, browser: Browser
) -> None:
    with alliance.grpc["sh", "sharing"].channel() as channel:
        requests = spb_grpc.SharingServiceStub(channel).ListRequests(
            spb.ListRequestsRequest(parent="regions/hz", page_size=100),
            metadata=alliance.md(Role.OPERATOR, region="hz"),
        )
    purposes = {r.purpose for r in requests.requests if r.purpose}
    with alliance.http("hz") as client:
        for path in ("/", "/map", "/pairs", "/live", "/?q=检测实验室"):
            html = client.get(path).text
            assert not [p for p in purposes if p in html], f"{path} shows a request's purpose"
            assert "已出具法律意见" not in html and "三个月内回访" not in html, f"{path}: findings"
        assert client.get("/requests").status_code == 303  # to sign in
        assert client.get("/incoming").status_code == 303
        live = client.get("/requests/live")
        assert live.status_code == 401


def test_a_form_posted_without_its_csrf_token_is_refused_and_changes_nothing(
    alliance: Alliance,
) -> None:
    partner = alliance.md()
    with alliance.grpc["hz", "membership"].channel() as channel:
        carriers = mpb_grpc.MembershipServiceStub(channel).ListCarriers(
            mpb.ListCarriersRequest(parent="regions/hz"), metadata=partner
        )
    asker = carriers.carriers[-1].name
    token = alliance.token(Role.CARRIER, carrier=asker)

    def requests_made() -> int:
        with alliance.grpc["hz", "sharing"].channel() as channel:
            reply = spb_grpc.SharingServiceStub(channel).ListRequests(
                spb.ListRequestsRequest(parent="regions/hz", requester=asker, page_size=1000),
                metadata=(("authorization", f"Bearer {token}"),),
            )
        return len(reply.requests)

    before = requests_made()
    with alliance.http("hz") as client:
        page = client.get("/signin")
        csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
        signed = client.post("/signin", data={"csrf": csrf, "token": token})
        assert signed.status_code == 303 and "alliance_session" in client.cookies
        with alliance.grpc["hz", "sharing"].channel() as channel:
            lab = (
                spb_grpc.SharingServiceStub(channel)
                .SearchResources(
                    spb.SearchResourcesRequest(query="路演厅", region="regions/sh", page_size=1),
                    metadata=partner,
                )
                .resources[0]
            )
        form = {
            "resource": lab.name,
            "units": "1",
            "start": "2031-01-02T09:00",
            "end": "2031-01-02T10:00",
            "purpose": "no token",
            "request_id": str(uuid.uuid4()),
        }
        assert client.post("/requests", data=form).status_code == 403
        assert client.post("/requests", data={**form, "csrf": csrf}).status_code == 403, (
            "the token of the page before signing in belongs to another session"
        )
        other_site = client.post(
            "/requests", data={**form, "csrf": csrf}, headers={"origin": "https://evil.example"}
        )
        assert other_site.status_code == 403
        without_cookie = httpx.post(
            f"{alliance.portals['hz']}/signin",
            data={"csrf": csrf, "token": token},
            verify=alliance.verify,
        )
        assert without_cookie.status_code == 403
    assert requests_made() == before


def _ask_from_hz_to_sh(
    alliance: Alliance, word: str = "路演厅", asker: int = 2, days_ahead: int = 50
) -> tuple[str, spb.Resource]:
    """A request by one of hz's carriers for an sh resource the word finds, made over gRPC: the
    request's name and the resource."""
    partner = alliance.md()
    with alliance.grpc["hz", "sharing"].channel() as channel:
        stub = spb_grpc.SharingServiceStub(channel)
        found = stub.SearchResources(
            spb.SearchResourcesRequest(query=word, region="regions/sh", page_size=50),
            metadata=partner,
        )
        wanted = next(r for r in found.resources if r.capacity >= 1)
        with alliance.grpc["hz", "membership"].channel() as m_channel:
            carriers = mpb_grpc.MembershipServiceStub(m_channel).ListCarriers(
                mpb.ListCarriersRequest(parent="regions/hz"), metadata=partner
            )
        requester = carriers.carriers[asker].name
        window = spb.TimeWindow()
        window.start_time.FromSeconds(int(time.time()) + days_ahead * 86400)
        window.end_time.FromSeconds(int(time.time()) + days_ahead * 86400 + 3600)
        request = stub.CreateRequest(
            spb.CreateRequestRequest(
                parent="regions/hz",
                request=spb.Request(
                    resource=wanted.name, requester=requester, units=1, window=window, purpose="y"
                ),
            ),
            metadata=alliance.md(Role.CARRIER, carrier=requester),
        )
    return request.name, wanted


def test_a_carrier_cannot_decide_on_another_owners_request_through_the_portal(
    alliance: Alliance,
) -> None:
    request, venue = _ask_from_hz_to_sh(alliance, "会议室", asker=1, days_ahead=40)
    with alliance.grpc["sh", "membership"].channel() as channel:
        sh_carriers = mpb_grpc.MembershipServiceStub(channel).ListCarriers(
            mpb.ListCarriersRequest(parent="regions/sh"), metadata=alliance.md()
        )
    intruder = next(c.name for c in sh_carriers.carriers if c.name != venue.owner)
    with alliance.grpc["sh", "sharing"].channel() as channel:
        sh_sharing = spb_grpc.SharingServiceStub(channel)
        owner_md = alliance.md(Role.CARRIER, carrier=venue.owner)

        def booking() -> spb.Booking | None:
            queue = sh_sharing.ListIncomingRequests(
                spb.ListIncomingRequestsRequest(parent=venue.owner, page_size=1000),
                metadata=owner_md,
            )
            return next((b for b in queue.bookings if b.request == request), None)

        deadline = time.monotonic() + 20
        while (held := booking()) is None or held.state != spb.BOOKING_STATE_HELD:
            assert time.monotonic() < deadline, "the request was never held"
            time.sleep(0.2)

        with alliance.http("sh") as client:
            csrf = client.get("/signin").text.split('name="csrf" value="')[1].split('"')[0]
            token = alliance.token(Role.CARRIER, carrier=intruder)
            assert client.post("/signin", data={"csrf": csrf, "token": token}).status_code == 303
            csrf = client.get("/incoming").text.split('name="csrf" value="')[1].split('"')[0]
            refused = client.post("/incoming/approve", data={"csrf": csrf, "name": request})
            assert refused.status_code == 403, refused.text[:300]
        after = booking()
        assert after is not None and after.state == spb.BOOKING_STATE_HELD, "nothing changed"


def test_what_members_write_is_shown_as_text_never_run(
    alliance: Alliance, browser: Browser
) -> None:
    with alliance.grpc["sh", "membership"].channel() as channel:
        owner = (
            mpb_grpc.MembershipServiceStub(channel)
            .ListCarriers(mpb.ListCarriersRequest(parent="regions/sh"), metadata=alliance.md())
            .carriers[0]
            .name
        )
    title = "<img src=x onerror=alert(1)>注入路演厅" + uuid.uuid4().hex[:4]
    with alliance.grpc["sh", "sharing"].channel() as channel:
        spb_grpc.SharingServiceStub(channel).CreateResource(
            spb.CreateResourceRequest(
                parent="regions/sh",
                resource=spb.Resource(
                    owner=owner,
                    category=spb.CATEGORY_SPACE_VENUE,
                    title=title,
                    description="<script>document.title='owned'</script>",
                    capacity=1,
                    visibility=spb.VISIBILITY_ALLIANCE,
                    state=spb.RESOURCE_STATE_PUBLISHED,
                ),
            ),
            metadata=alliance.md(Role.OPERATOR, region="sh"),
        )
    page = _page(browser)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    card = page.locator("li.card", has_text="注入路演厅")
    deadline = time.monotonic() + 20
    while not card.count():  # hz's copy, once the event crossed
        assert time.monotonic() < deadline, "the resource never reached hz's catalogue"
        page.goto(f"{alliance.portals['hz']}/?q=注入路演厅&order=recent")
    expect(card.locator("h3")).to_have_text(title)
    assert card.locator("img").count() == 0 and not dialogs
    assert "owned" not in page.title()


def test_the_language_switch_returns_only_to_this_site(alliance: Alliance) -> None:
    with alliance.http("hz") as client:
        for referer, back in (
            (f"{alliance.portals['hz']}/map?x=1", "/map?x=1"),
            (f"{alliance.portals['hz']}//evil.example/", "/"),
            ("https://evil.example/phish", "/phish"),  # the path only: still this site
        ):
            switched = client.get("/lang/en", headers={"referer": referer})
            assert switched.status_code == 303 and switched.headers["location"] == back


def test_the_maps_counts_follow_the_requests_without_a_reload(
    alliance: Alliance, browser: Browser
) -> None:
    _ask_from_hz_to_sh(alliance)
    page = _page(browser)
    link = page.locator("#pair-hz-sh")
    deadline = time.monotonic() + 20
    while not link.count():  # the first request between the two regions draws the link
        assert time.monotonic() < deadline, "no hz → sh link on the map"
        page.goto(f"{alliance.portals['zjg']}/map")
    before = int(link.inner_text())
    page.evaluate("window.notReloaded = true")
    _ask_from_hz_to_sh(alliance)
    deadline = time.monotonic() + 15  # the count only grows; ours is among what arrives
    while int(link.inner_text()) <= before:
        assert time.monotonic() < deadline, f"the map still shows {before} requests"
        time.sleep(0.2)
    assert page.evaluate("window.notReloaded === true"), "the page was loaded again"


def test_pages_fit_a_phone_and_start_with_a_skip_link(alliance: Alliance, browser: Browser) -> None:
    phone = browser.new_context(
        ignore_https_errors=True, viewport={"width": 390, "height": 844}, is_mobile=True
    ).new_page()
    for path, name in (("/?q=检测实验室", "phone-supermarket"), ("/map", "phone-map")):
        phone.goto(f"{alliance.portals['sh']}{path}")
        overflow = phone.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} is {overflow}px wider than a phone"
        alliance.shoot(phone, name)
    page = _page(browser)
    page.goto(alliance.portals["sh"])
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.outerHTML")
    assert 'class="skip"' in focused, f"the first Tab reached {focused[:120]}"
    page.keyboard.press("Enter")
    assert page.url.endswith("#main")


def _samples(url: str) -> list[tuple[str, dict[str, str], float]]:
    families = text_string_to_metric_families(httpx.get(url).text)
    return [(s.name, s.labels, s.value) for family in families for s in family.samples]


def _value(samples: list[tuple[str, dict[str, str], float]], name: str, **labels: str) -> float:
    return sum(v for n, ls, v in samples if n == name and labels.items() <= ls.items())


def test_the_portal_counts_its_pages_for_prometheus(alliance: Alliance) -> None:
    url = alliance.metrics["zjg"]
    with alliance.http("zjg") as client:
        for _ in range(3):
            assert client.get("/?q=会议室").status_code == 200
        assert client.get("/resources/zjg/01K00000000000000000000000").status_code == 404
        assert client.get("/resources/zjg/not-an-id").status_code == 400
        open_before = _value(_samples(url), "alliance_portal_live_streams")  # browsers' pages
        with client.stream("GET", "/live/events") as stream:  # one more live stream
            lines = stream.iter_lines()  # kept: a dropped iterator closes the stream
            next(lines)
            assert _value(_samples(url), "alliance_portal_live_streams") == open_before + 1
    samples = _samples(url)
    requests = "http_server_requests_total"
    assert _value(samples, requests, page="supermarket", code="200", region="zjg") >= 3
    assert _value(samples, requests, page="resource", code="404") == 1
    assert _value(samples, requests, page="resource", code="400") == 1
    assert _value(samples, "http_server_request_duration_seconds_count", page="supermarket") >= 3
    deadline = time.monotonic() + 5  # the portal notices a closed stream within a second
    while _value(_samples(url), "alliance_portal_live_streams") != open_before:
        assert time.monotonic() < deadline, "a closed live stream is still counted as open"
        time.sleep(0.2)


def test_the_owners_queue_says_when_new_requests_arrive(
    alliance: Alliance, browser: Browser
) -> None:
    first, venue = _ask_from_hz_to_sh(alliance, "展示厅", asker=0, days_ahead=60)
    owner = _page(browser)
    _sign_in(owner, alliance.portals["sh"], alliance.token(Role.CARRIER, carrier=venue.owner))
    row = owner.locator(f'tr[data-name="{first}"]')
    deadline = time.monotonic() + 20
    while not row.count():  # once the request crossed to sh
        assert time.monotonic() < deadline, "the request never reached the owner's queue"
        owner.goto(f"{alliance.portals['sh']}/incoming")
    notice = owner.locator("#new-requests")
    expect(notice).to_be_hidden()
    second, same = _ask_from_hz_to_sh(alliance, "展示厅", asker=0, days_ahead=61)
    assert same.name == venue.name
    expect(notice).to_be_visible(timeout=15_000)
    owner.click("#new-requests a")
    expect(owner.locator(f'tr[data-name="{second}"]')).to_be_visible()


def test_sign_in_refuses_another_regions_member_and_a_forged_token(
    alliance: Alliance, tmp_path: Path
) -> None:
    with alliance.grpc["sh", "membership"].channel() as channel:
        sh_carrier = (
            mpb_grpc.MembershipServiceStub(channel)
            .ListCarriers(mpb.ListCarriersRequest(parent="regions/sh"), metadata=alliance.md())
            .carriers[0]
            .name
        )
    forger = Issuer.load_or_create(tmp_path / "forger")  # a key the alliance does not trust
    for token, why in (
        (alliance.token(Role.CARRIER, carrier=sh_carrier), "portal of sh"),
        (alliance.token(Role.OPERATOR, region="sh"), "portal of sh"),
        (forger.sign(subject="x", role=Role.CARRIER, carrier=sh_carrier), "key"),
        ("not a token", "invalid"),
    ):
        with alliance.http("hz") as client:
            csrf = client.get("/signin").text.split('name="csrf" value="')[1].split('"')[0]
            refused = client.post("/signin", data={"csrf": csrf, "token": token})
            assert refused.status_code == 401 and why in refused.text, refused.text[-400:]
            assert "alliance_session" not in client.cookies, "a refused sign-in set a session"
            assert client.get("/requests").status_code == 303  # still to the sign-in page
