"""The tuning report opens in a real browser: headless Chromium screenshots it.

Chromium is installed by the session fixture when it is missing and we are root with apt-get
(quietly, with a timeout); otherwise the test skips and says why.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest

from reports.tuning import write_report
from tests.reports.tuning_data import full_record

INSTALL_TIMEOUT_S = 900
SHOT_TIMEOUT_S = 180
WIDTH, HEIGHT = 1280, 4000


def _browser() -> str | None:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


def _install() -> str:
    """Try to install Debian's chromium; return why not, or '' on success."""
    if os.name != "posix" or os.geteuid() != 0:
        return "chromium is not on PATH and we are not root to install it"
    if shutil.which("apt-get") is None:
        return "chromium is not on PATH and apt-get is not available to install it"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    # One installer at a time, also across pytest-xdist workers.
    lock_path = Path(tempfile.gettempdir()) / "aptune-chromium-install.lock"
    import fcntl  # POSIX only, like apt-get

    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _browser():
            return ""
        for cmd in (
            ["apt-get", "update", "-qq"],
            ["apt-get", "install", "-y", "-qq", "chromium"],
        ):
            try:
                done = subprocess.run(
                    cmd, env=env, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S
                )
            except subprocess.TimeoutExpired:
                return f"'{' '.join(cmd)}' took longer than {INSTALL_TIMEOUT_S} s"
            if done.returncode != 0:
                tail = (done.stderr or done.stdout).strip().splitlines()[-1:]
                return f"'{' '.join(cmd)}' failed: {' '.join(tail)}"
    return ""


@pytest.fixture(scope="session")
def chromium() -> str:
    """Path of a headless-capable Chromium; installs Debian's package when possible."""
    path = _browser()
    if path is None:
        reason = _install()
        path = _browser()
        if path is None:
            pytest.skip(reason or "chromium could not be installed")
    return path


def _screenshot(browser: str, page: Path, png: Path, profile: Path) -> None:
    cmd = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        f"--screenshot={png}",
        f"--window-size={WIDTH},{HEIGHT}",
        page.resolve().as_uri(),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=SHOT_TIMEOUT_S)
    if done.returncode != 0 or not png.exists():
        pytest.fail(f"chromium could not screenshot {page}: {done.stderr.strip()[-500:]}")


def test_report_renders_in_a_headless_browser(chromium, tmp_path):
    """The page shows real content: a full-size PNG, many colours, much of it not background."""
    from matplotlib.image import imread

    page = write_report(full_record(), tmp_path / "report")["report.html"]
    png = tmp_path / "shot.png"
    _screenshot(chromium, page, png, tmp_path / "profile")
    assert png.stat().st_size > 50_000
    pixels = imread(png)[..., :3]
    assert pixels.shape[:2] == (HEIGHT, WIDTH)
    rgb = np.round(pixels * 255).astype(np.uint32).reshape(-1, 3)
    packed = (rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2]  # one integer per colour
    values, counts = np.unique(packed, return_counts=True)
    assert len(values) > 200, f"only {len(values)} colours: the page looks empty"
    # The most common colour is the background (white cards); figures and text cover a good part.
    share = np.mean(packed != values[np.argmax(counts)])
    assert share > 0.1, f"only {share:.0%} of the screenshot differs from the background"
    # The figures were decoded: the precision chart's integer-bit blue is on screen.
    assert np.any(packed == 0x3B7DC4)


# A script appended to a copy of the page (the report itself has none): after layout it writes
# how far right every table reaches, and the page's scroll width, into the DOM that
# ``--dump-dom`` prints.
_MEASURE = """<script>
addEventListener('load', () => {
  const right = [...document.querySelectorAll('table')].map(t => {
    let r = t.getBoundingClientRect().right;
    for (const c of t.querySelectorAll('td, th')) r = Math.max(r, c.getBoundingClientRect().right);
    return Math.round(r);
  });
  const out = document.createElement('pre');
  out.id = 'measured';
  out.textContent = JSON.stringify({right, scroll: document.documentElement.scrollWidth});
  document.body.append(out);
});
</script>"""


def _measured(browser: str, html_text: str, tmp_path: Path) -> dict:
    import json

    page = tmp_path / "measure.html"
    page.write_text(html_text.replace("</body>", _MEASURE + "</body>"), encoding="utf-8")
    cmd = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--hide-scrollbars",
        f"--user-data-dir={tmp_path / 'profile'}",
        f"--window-size={WIDTH},{HEIGHT}",
        "--dump-dom",
        page.resolve().as_uri(),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=SHOT_TIMEOUT_S)
    import re

    found = re.search(r'<pre id="measured">(.*?)</pre>', done.stdout)
    if found is None:
        pytest.fail(f"chromium did not measure {page}: {done.stderr.strip()[-500:]}")
    return json.loads(found.group(1).replace("&quot;", '"'))


def _long_types_record() -> dict:
    """The record with softmax tables and long layer names: a wide Types table."""
    record = full_record()
    types = record["result"]["types"]
    for name in ("exp_table_t", "inv_table_t", "inp_norm_t", "accum_t", "weight_t", "bias_t"):
        types[f"dense_3_softmax.{name}"] = "ap_fixed<18,8,AP_RND_CONV,AP_SAT_SYM>"
    types["dense_3_softmax.result_t"] = "ap_ufixed<16,0,AP_RND_CONV,AP_SAT>"
    types["batch_normalization_with_a_long_name.scale_t"] = "ap_fixed<18,8,AP_RND,AP_SAT>"
    return record


def test_tables_stay_within_1280_px(chromium, tmp_path):
    """At 1280 px no table of the tuning report (Types with seven long softmax types) or of the
    check report (Findings with a long fix, Types with many per layer) reaches past the
    window, and the page needs no horizontal scrolling."""
    from reports.check_report import check_html
    from reports.tuning import tuning_html
    from tests.reports.test_check_report import _result

    check = _result()
    check["findings"][0]["fix"] = (
        "LayerName: {dense_3_softmax: {Precision: {"
        + ", ".join(
            f"{k}: ap_fixed<18,8,AP_RND,AP_SAT>" for k in ("exp_table", "inv_table", "inp_norm")
        )
        + "}}}"
    )
    check["layers"][0]["types"] = {
        k: {"type": "ap_fixed<18,8,AP_RND_CONV,AP_SAT_SYM>", "source": "config"}
        for k in ("exp_table_t", "inv_table_t", "inp_norm_t", "accum_t", "result_t", "table_t")
    }
    pages = {
        "tuning": tuning_html(_long_types_record()),
        "check": check_html(check, {"ranges.png": 900, "shares.png": 900}),
    }
    for name, text in pages.items():
        folder = tmp_path / name
        folder.mkdir()
        got = _measured(chromium, text, folder)
        assert got["right"], name
        assert max(got["right"]) <= WIDTH, (name, got)
        assert got["scroll"] <= WIDTH, (name, got)
