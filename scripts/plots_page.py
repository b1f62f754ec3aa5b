"""`make plots` / `make metrics-diff`: DVC's plots page, self-contained so it renders offline.

`dvc plots show|diff` writes an HTML page whose charts load Vega, Vega-Lite and Vega-Embed from
a CDN, so offline (an air-gapped laptop, a CI artifact opened later) the page is blank. DVC's
own `--html-template` option takes a page without the `{scripts}` placeholder, so DVC adds no
CDN tags; this fills that template with the three libraries bundled by vl-convert (from PyPI,
no network at run time), wrapped so its top-level names stay private.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

BIN = Path(sys.executable).parent

TEMPLATE = """<!DOCTYPE html>
<html>
<head>
    <meta charset="utf-8">
    {refresh_tag}
    <title>DVC plots: titanic-mlops</title>
    <script>(function () {
{bundle}
})();</script>
    <style>table { border-spacing: 15px; } body { font-family: sans-serif; }</style>
</head>
<body>
    {plot_divs}
</body>
</html>
"""


def template() -> str:
    """The page DVC fills: the libraries inline; DVC's own placeholders left for it."""
    import vl_convert

    bundle = vl_convert.javascript_bundle()
    if any(f"{{{name}}}" in bundle for name in ("scripts", "plot_divs", "refresh_tag")):
        raise RuntimeError("the Vega bundle holds a DVC placeholder; DVC would rewrite it")
    return TEMPLATE.replace("{bundle}", bundle)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--diff", metavar="REV", help="`dvc plots diff REV` instead of `dvc plots show`")
    parser.add_argument("--out", type=Path, default=Path("dvc_plots"), help="the page's folder (index.html)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "template.html"
        page.write_text(template(), encoding="utf8")
        command = ["plots", "diff", args.diff] if args.diff else ["plots", "show"]
        done = subprocess.run(
            [str(BIN / "dvc"), *command, "--html-template", str(page), "-o", str(args.out)],
            capture_output=True,
            text=True,
            check=False,
        )
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        return done.returncode
    print(f"Plots: {args.out / 'index.html'} (self-contained: opens offline)")  # noqa: T201
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
