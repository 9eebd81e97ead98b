"""The analyst's page in headless Chromium: how long from "Tag" to paragraphs on screen.

    python bench/page_speed.py --model models/tfidf                       # 30 seed paragraphs, 10 runs
    python bench/page_speed.py --article ../shared/seeds/004_ae9c53aa8c9caac5.txt --screenshot docs/page.png

Starts `python -m serve api` on 127.0.0.1 (the model loads before the clock starts), opens
`/` in headless Chromium (system `chromium` + `chromedriver`), puts the article in the box,
clicks Tag and reads the page's own timing (request sent -> every paragraph rendered).
`--screenshot` saves the page after the last run as a small palette PNG.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from api_load import free_port, wait_ready  # noqa: E402
from common import machine  # noqa: E402


def seed_article(paragraphs: int) -> str:
    rows = [json.loads(line) for line in (ROOT / "data/seeds.jsonl").read_text(encoding="utf-8").splitlines()]
    texts = [r["text"] for r in rows if r["source"] == "seed:000_7c8904df79475a7b.txt"][:paragraphs]
    return "\n\n".join(texts)


def browser(width: int, height: int):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chrome = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)
    driver = shutil.which("chromedriver")
    if not (chrome and driver):
        raise SystemExit("needs chromium and chromedriver (apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = chrome
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                f"--window-size={width},{height}", "--hide-scrollbars", "--lang=en"):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service(driver), options=options)


def small_png(source: Path, target: Path, colours: int = 128) -> int:
    from PIL import Image

    with Image.open(source) as image:
        image.convert("RGB").quantize(colours, dither=Image.Dither.NONE).save(target, optimize=True)
    return target.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="models/tfidf")
    parser.add_argument("--article", help="a raw article (.txt); default: the first --paragraphs of a seed article")
    parser.add_argument("--paragraphs", type=int, default=30)
    parser.add_argument("--runs", type=lambda v: max(1, int(v)), default=10, help="timed runs (at least 1)")
    parser.add_argument("--screenshot", type=Path, help="save the page as a PNG here")
    parser.add_argument("--size", default="1000x1400", help="browser window, WIDTHxHEIGHT")
    args = parser.parse_args()
    article = Path(args.article).read_text(encoding="utf-8") if args.article else seed_article(args.paragraphs)
    width, height = (int(v) for v in args.size.split("x"))

    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "serve", "api", "--model", args.model, "--port", str(port)],
                              cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    driver = None
    try:
        wait_ready(url)
        driver = browser(width, height)
        driver.get(url + "/")
        time.sleep(0.5)  # GET /health fills in the model and the auto threshold
        driver.execute_script("document.getElementById('article').value = arguments[0]", article)
        times, shown = [], 0
        for run in range(1, args.runs + 1):
            driver.find_element("id", "tag").click()
            deadline = time.time() + 30
            while driver.find_element("tag name", "body").get_attribute("data-tagged") != str(run):
                if time.time() > deadline:
                    raise SystemExit(f"run {run}: no results ({driver.find_element('id', 'error').text})")
                time.sleep(0.01)
            times.append(float(driver.find_element("tag name", "body").get_attribute("data-tag-ms")))
            shown = len(driver.find_elements("css selector", "#paragraphs > li"))
        if args.screenshot:
            raw = args.screenshot.with_suffix(".raw.png")
            driver.save_screenshot(str(raw))
            size = small_png(raw, args.screenshot)
            raw.unlink()
            print(f"screenshot: {args.screenshot} ({size / 1024:.0f} KB)")
    finally:
        if driver is not None:
            driver.quit()
        server.terminate()
        server.wait(10)
    print(f"{shown} paragraphs tagged and shown in {statistics.median(times):.0f} ms (median of {len(times)}; "
          f"min {min(times):.0f}, max {max(times):.0f}); model {args.model}; {machine()}")


if __name__ == "__main__":
    main()
