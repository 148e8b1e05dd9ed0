#!/bin/sh
# Runs a test command against a real Secret Service: GNOME Keyring on a private D-Bus session
# bus, its login keyring created and unlocked with a throwaway password in a temporary
# XDG_DATA_HOME. The developer's own keyring is never touched and nothing prompts; the daemon
# goes when the bus does.
exec dbus-run-session -- sh -c '
  XDG_DATA_HOME="$(mktemp -d)" || exit 1
  export XDG_DATA_HOME
  printf "%s" "moe-test-keyring" | gnome-keyring-daemon --unlock --components=secrets >/dev/null
  "$@"
  rc=$?
  rm -rf "$XDG_DATA_HOME"
  exit $rc' with_secret_service "$@"
