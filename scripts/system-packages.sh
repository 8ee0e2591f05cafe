#!/usr/bin/env bash
# The Debian packages the engine itself needs, installed when missing (make run and make test call it):
# hunspell's library and headers (the Python binding builds on them) and its English and Indonesian
# dictionaries, American and British (the offline spell checker). It fails loudly when one cannot be had.
set -euo pipefail

need_file() {
    local file=$1 package=$2
    [ -e "$file" ] && return
    echo "system-packages: $file is missing; installing Debian package $package" >&2
    if [ "$(id -u)" != 0 ]; then
        echo "system-packages: FAILED: $package is needed and only root can install it (apt-get install $package)" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq "$package" >&2 || { apt-get update -qq >&2 || true; apt-get install -y -qq "$package" >&2; } \
        || { echo "system-packages: FAILED: could not install $package" >&2; exit 1; }
    [ -e "$file" ] || { echo "system-packages: FAILED: $file still missing after installing $package" >&2; exit 1; }
}

need_file /usr/include/hunspell/hunspell.h libhunspell-dev
need_file /usr/share/hunspell/en_US.dic hunspell-en-us
need_file /usr/share/hunspell/en_GB.dic hunspell-en-gb
need_file /usr/share/hunspell/id_ID.dic hunspell-id
