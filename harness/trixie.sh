#!/usr/bin/env bash
# Fetches packages of Debian trixie (and trixie-backports) without touching
# the machine's own apt sources: a private apt state, cache and source list
# under $ST_TRIXIE (build/trixie by default), naming the same Debian archive
# the machine already uses.
#
# usage: trixie.sh download DIR PKG...   the .debs of PKG into DIR
#        trixie.sh extract ROOT PKG...   PKG unpacked (dpkg-deb -x) into ROOT
#                                        (the .debs kept in $ST_TRIXIE/debs)
set -euo pipefail
cmd=$1 dir=$2
shift 2
base=${ST_TRIXIE:-$(cd "$(dirname "$0")/.." && pwd)/build/trixie}
mkdir -p "$base/state/lists/partial" "$base/cache/archives/partial" "$base/debs" "$dir"
dir=$(cd "$dir" && pwd)

# The archive: the machine's own Debian mirror (deb822 or one-line form).
mirror=$(grep -hE '^(URIs:|deb )' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list \
	2>/dev/null | grep -oE 'https?://[^ ]+/debian/?' | head -1 || true)
mirror=${mirror:-http://deb.debian.org/debian}
list="$base/sources.list"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror trixie main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror trixie-backports main" > "$list"
apt_opts=(-o "Dir::State=$base/state" -o "Dir::Cache=$base/cache"
	-o "Dir::Etc::sourcelist=$list" -o "Dir::Etc::sourceparts=-"
	-o "APT::Get::List-Cleanup=0" -o "APT::Sandbox::User=root" -o "Debug::NoLocking=1" -qq)
# The lists are fetched once a day at most.
if [ -z "$(find "$base/state/lists" -maxdepth 1 -name '*Packages*' -mtime -1 2>/dev/null | head -1)" ]; then
	apt-get "${apt_opts[@]}" update
fi

# The version apt would pick, backports included (they are pinned low by
# default, so a package only there still resolves; one in both gets the
# newer when asked as PKG/trixie-backports).
debs=$dir
[ "$cmd" = extract ] && debs=$base/debs
cd "$debs"
for p in "$@"; do
	ls "${p%%/*}"_*.deb >/dev/null 2>&1 || apt-get "${apt_opts[@]}" download "$p"
done
case "$cmd" in
download) ;;
extract) for p in "$@"; do dpkg-deb -x "$(ls "${p%%/*}"_*.deb | tail -1)" "$dir"; done ;;
*) echo "trixie.sh: unknown command $cmd" >&2; exit 2 ;;
esac
