#!/usr/bin/env bash
# Debian packages the tests drive for real: chromium (console tests) and prometheus (promtool,
# scrape test); the agreement PDF's CJK font (fonts-wqy-microhei: TrueType outlines, which fpdf2
# embeds and subsets), poppler's pdfsig (a second validator of the signed PDF), SoftHSM (a
# PKCS#11 token the lender's signing key is imported into, for the pkcs11 signing backend's
# test) and Maven (with the Java it brings: veraPDF, the PDF/A validator of the agreement PDF,
# resolved from Maven Central by deploy/verapdf/pom.xml). Installed once when missing.
set -euo pipefail
missing=()
command -v chromium >/dev/null || [ -x /usr/bin/chromium ] || missing+=(chromium)
command -v promtool >/dev/null || missing+=(prometheus)
[ -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || missing+=(fonts-wqy-microhei)
command -v pdfsig >/dev/null || missing+=(poppler-utils)
command -v softhsm2-util >/dev/null || missing+=(softhsm2)
command -v mvn >/dev/null || missing+=(maven)
if ((${#missing[@]})); then
  echo "[prereqs] installing ${missing[*]} from Debian's packages"
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else sudo apt-get update -qq && sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; fi
fi
