#!/bin/sh
# md2man.sh PAGE.md OUT GO_MD2MAN: a manual page from our Markdown. The
# first line "# flux-NAME(N)" becomes go-md2man's title block "% flux-NAME N".
set -e
mkdir -p "$(dirname "$2")"
sed -E '1s/^# (.*)\(([0-9])\)[[:space:]]*$/% \1 \2/' "$1" | "$3" -out="$2.tmp"
mv "$2.tmp" "$2"
