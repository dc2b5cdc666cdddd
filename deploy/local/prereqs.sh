#!/usr/bin/env bash
# Debian packages the tests drive for real: chromium (console tests) and prometheus (promtool,
# scrape test). Installed once when missing.
set -euo pipefail
missing=()
command -v chromium >/dev/null || [ -x /usr/bin/chromium ] || missing+=(chromium)
command -v promtool >/dev/null || missing+=(prometheus)
if ((${#missing[@]})); then
  echo "[prereqs] installing ${missing[*]} from Debian's packages"
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else sudo apt-get update -qq && sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; fi
fi
