#!/bin/sh
# Runs a UI test command on an X server of its own (Xvfb, 1600x1000, a display number the server
# picks itself with -displayfd, so parallel starts never race for one).
# Why: keyboard focus, the pointer and the clipboard belong to the display. UI tests that ctest
# runs in parallel under one shared xvfb-run took the focus from each other: the X server moved it
# to whichever window asked last, the other window was deactivated and its next window shortcut
# (Ctrl+N, Ctrl+Enter, Delete) went nowhere. With a display each, a test's window is the only one.
dir="$(mktemp -d)" || exit 1
Xvfb -displayfd 3 -screen 0 1600x1000x24 -nolisten tcp 3>"$dir/display" 2>"$dir/xvfb.log" &
xvfb=$!
n=0
until [ -s "$dir/display" ]; do
  n=$((n + 1))
  if [ "$n" -gt 200 ] || ! kill -0 "$xvfb" 2>/dev/null; then
    echo "own_display.sh: Xvfb did not start:" >&2
    cat "$dir/xvfb.log" >&2
    kill "$xvfb" 2>/dev/null
    rm -rf "$dir"
    exit 1
  fi
  sleep 0.05
done
DISPLAY=":$(cat "$dir/display")" "$@"
rc=$?
kill "$xvfb"
wait "$xvfb" 2>/dev/null
rm -rf "$dir"
exit $rc
