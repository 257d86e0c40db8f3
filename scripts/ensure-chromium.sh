#!/usr/bin/env bash
# Before the tests: the browser end-to-end test drives Debian's Chromium. Install it when missing.
set -u
if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "node-wsgi: installing Debian's chromium for the browser test (once)..."
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null && exit 0
fi
echo "node-wsgi: chromium is missing and could not be installed; the browser test will fail. Install Debian's 'chromium' package." >&2
exit 0
