#!/usr/bin/env bash
# Writes a small site with version history for the browser tests of Stand, Fassung, Synopse and picker pages:
# the valid fixture, then an edit with a moved table, then an adoption by the Kreistag, then a register entry
# and a matrix change (their Stand pages), then the deletion of a register entry (the page at its address).
#
#   tests/browser/history-site.sh DIR     → prints the page paths to test, comma-separated
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
dir=$1
rm -rf "$dir"
mkdir -p "$dir"
cp -r "$here/../fixtures/valid/." "$dir/"
export GIT_AUTHOR_NAME=Redaktion GIT_AUTHOR_EMAIL=redaktion@testkreis.example
export GIT_COMMITTER_NAME=Redaktion GIT_COMMITTER_EMAIL=redaktion@testkreis.example
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
commit() {
  git -C "$dir" add --all
  GIT_AUTHOR_DATE="@$2 +0000" GIT_COMMITTER_DATE="@$2 +0000" git -C "$dir" commit --quiet -m "$1"
  git -C "$dir" rev-parse --short=12 HEAD
}
git -C "$dir" init --quiet --initial-branch=main
first=$(commit "Erster Stand" 1780000000)

g="$dir/content/leitlinien/grundsaetze.md"
# A changed sentence, and the table moved below the task list.
python3 - "$g" <<'PY'
import sys
p = sys.argv[1]
s = open(p, encoding="utf-8").read()
start = s.index("| Grundsatz |")
end = s.index("- [x]")
table = s[start:end]
s = s[:start] + s[end:]
s = s.replace("Diese Leitlinie gilt für alle Ämter.", "Diese Regel gilt für alle Ämter und Eigenbetriebe.")
marker = "### Beispiel für Front Matter"
s = s.replace(marker, table + marker)
open(p, "w", encoding="utf-8").write(s)
PY
second=$(commit "Geltungsbereich erweitert, Tabelle verschoben" 1780086400)

d="$dir/content/leitlinien/datenschutz.md"
sed -i 's/^status = "entwurf"$/status = "beschlossen"\ngueltig_ab = 2026-10-01/' "$d"
sed -i 's/^order = 2$/order = 2\n\n[beschluss]\ngremium = "Kreistag"\ndatum = 2026-09-24\nvorlage = "2026\/120"/' "$d"
commit "Beschluss des Kreistags" 1780172800 >/dev/null

# A register entry and a matrix change: Stand pages with changed fields and letters.
sed -i 's/^org_unit = "Bürgerservice"$/org_unit = "Bürgerservice und Bürgerbüro"/' "$dir/content/register/antragsassistent.toml"
sed -i 's/^Betrieb;I;;A;R;C;$/Betrieb;I;C;A;R;C;/' "$dir/content/raci/einfuehrung.csv"
fourth=$(commit "Register und Matrix" 1780259200)

# A register entry is deleted: its address says so, its Stände stay.
git -C "$dir" rm --quiet content/register/bescheidentwurf.toml
fifth=$(commit "Eintrag entfernt" 1780345600)

echo "/leitlinien/grundsaetze/fassungen/,/leitlinien/grundsaetze/stand/$first/,/leitlinien/grundsaetze/synopse/$first/$second/,/leitlinien/datenschutz/fassung/2026-09-24/,/leitlinien/datenschutz/,/stichtag/,/aenderungen/,/beschluesse/,/register/antragsassistent/stand/$fourth/,/register/antragsassistent/staende/,/verantwortung/einfuehrung/stand/$fourth/,/register/bescheidentwurf/,/register/bescheidentwurf/stand/$first/,/register/bescheidentwurf/staende/"
