#!/bin/sh
# A uacme-compatible hook (aro --hook, uacme -h) that answers dns-01 by
# setting the TXT record in pebble-challtestsrv through its management API.
#   $1 method: begin | done | failed   $2 type   $3 identifier   $4 token
#   $5 auth: for dns-01 the TXT value (base64url SHA-256 of the key authorization)
# CTS_MGMT is challtestsrv's management address (default 127.0.0.1:8055).
# Declines (exit 1) every other challenge type, as uacme's examples do.
method=$1 type=$2 ident=$3 auth=$5
mgmt=${CTS_MGMT:-127.0.0.1:8055}
[ "$type" = dns-01 ] || exit 1
ident=${ident#\*.}
case "$method" in
  begin) body="{\"host\":\"_acme-challenge.$ident.\",\"value\":\"$auth\"}"; path=set-txt ;;
  done|failed) body="{\"host\":\"_acme-challenge.$ident.\"}"; path=clear-txt ;;
  *) exit 1 ;;
esac
curl -sf -o /dev/null -d "$body" "http://$mgmt/$path"
