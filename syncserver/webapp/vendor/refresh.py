"""Refresh the web app's vendored front-end libraries from the npm registry.

    python syncserver/webapp/vendor/refresh.py

Each package is fetched with `npm pack` (the registry's own tarball, checked by
npm against its integrity hash), and only its ES module build, its stylesheet if
it has one (Leaflet) and its licence are kept here, so installing the server stays
`pip` only and the server serves every asset itself. The versions are pinned in
PACKAGES; change one, run this, commit what it wrote (VERSIONS.json records each
tarball's integrity).

Bare imports between the modules ("preact") are rewritten to relative ones
("./preact.mjs"), so a browser loads them without an import map.
"""

from __future__ import annotations

import json
import re
import subprocess
import tarfile
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

# package@version -> {path in the tarball: file written here}
PACKAGES: dict[str, dict[str, str]] = {
    "preact@10.29.8": {
        "package/dist/preact.module.js": "preact.mjs",
        "package/hooks/dist/hooks.module.js": "preact-hooks.mjs",
        "package/LICENSE": "LICENSE-preact",
    },
    "htm@3.1.1": {
        "package/dist/htm.module.js": "htm.mjs",
        "package/LICENSE": "LICENSE-htm",
    },
    # The map (js/map-view.js): the ES module build and its stylesheet. Its marker
    # images are not kept: the map draws circle markers, which need none.
    "leaflet@1.9.4": {
        "package/dist/leaflet-src.esm.js": "leaflet.mjs",
        "package/dist/leaflet.css": "leaflet.css",
        "package/LICENSE": "LICENSE-leaflet",
    },
}

IMPORTS = {"preact": "./preact.mjs", "preact/hooks": "./preact-hooks.mjs"}


def relative_imports(source: str) -> str:
    def swap(match: re.Match[str]) -> str:
        name = match.group(2)
        return f"{match.group(1)}{IMPORTS.get(name, name)}{match.group(3)}"

    return re.sub(r"""(from\s*["'])([^"']+)(["'])""", swap, source)


def main() -> None:
    versions = {}
    with tempfile.TemporaryDirectory() as tmp:
        for spec, files in PACKAGES.items():
            out = subprocess.run(
                ["npm", "pack", spec, "--json", "--pack-destination", tmp],
                check=True,
                capture_output=True,
                text=True,
            )
            (packed,) = json.loads(out.stdout)
            versions[packed["name"]] = {
                "version": packed["version"],
                "integrity": packed["integrity"],
            }
            with tarfile.open(Path(tmp) / packed["filename"]) as tar:
                for member, target in files.items():
                    extracted = tar.extractfile(member)
                    assert extracted is not None, f"{spec}: no {member}"
                    text = extracted.read().decode()
                    if target.endswith(".mjs"):
                        # No source maps are vendored: drop the comment that asks for one.
                        text = re.sub(r"\n?//# sourceMappingURL=\S+\s*$", "\n", text)
                        text = relative_imports(text)
                    (HERE / target).write_text(text)
                    print(f"{spec}: {member} -> {target}")
    (HERE / "VERSIONS.json").write_text(json.dumps(versions, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
