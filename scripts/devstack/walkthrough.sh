bash -euo pipefail <<'WALKTHROUGH'
API=http://127.0.0.1:${PATRONUS_PORT:-8080}
# two users: alice, an editor of unit-a; bob, an editor of unit-b
AUTH="Authorization: Bearer $(.venv/bin/python -m scripts.local_token alice --groups editors,unit-a)"
BOB="Authorization: Bearer $(.venv/bin/python -m scripts.local_token bob --groups editors,unit-b)"
jget() { .venv/bin/python -c 'import json,sys; v=json.load(sys.stdin)
for k in sys.argv[1:]: v=v[k]
print(v)' "$@"; }
WORK=$(mktemp -d) && trap 'rm -rf "$WORK"' EXIT      # this run's files
# create a dossier (references are unique: a new one each run)
REFERENCE="DOS-$(date +%Y%m%d-%H%M%S)-$RANDOM"
DOSSIER=$(curl -sS --fail -X POST "$API/v1/dossiers" -H "$AUTH" -H 'Content-Type: application/json' \
  -d "{\"reference\":\"$REFERENCE\",\"title\":\"First dossier\"}" | jget id)
echo "dossier $REFERENCE: $DOSSIER"
# bob's unit does not see alice's dossier: 404, as if it did not exist
CODE=$(curl -sS --fail -o /dev/null -w '%{http_code}' "$API/v1/dossiers/$DOSSIER" -H "$BOB" 2>/dev/null || true)
echo "bob before sharing: HTTP $CODE"
[ "$CODE" = 404 ]
# alice shares it with bob as a reader; bob now reads it, and his rights say he may not change it
curl -sS --fail -o /dev/null -X PUT "$API/v1/dossiers/$DOSSIER/grants" -H "$AUTH" \
  -H 'Content-Type: application/json' -d '{"grantee_type":"user","grantee":"bob","permission":"reader"}'
echo "bob after sharing: may edit? $(curl -sS --fail "$API/v1/dossiers/$DOSSIER" -H "$BOB" | jget rights edit)"
# request an upload for a file
echo 'Hello, Patronus' > "$WORK/hello.txt"
UPLOAD=$(curl -sS --fail -X POST "$API/v1/dossiers/$DOSSIER/documents" -H "$AUTH" \
  -H 'Content-Type: application/json' \
  -d "{\"filename\":\"hello.txt\",\"content_type\":\"text/plain\",\"size_bytes\":$(wc -c < "$WORK/hello.txt")}")
DOCUMENT=$(echo "$UPLOAD" | jget document id)
UPLOAD_URL=$(echo "$UPLOAD" | jget upload url)
FIELDS=$(echo "$UPLOAD" | .venv/bin/python -m scripts.presigned_form)
mapfile -t FORM <<< "$FIELDS"
# upload the bytes straight to S3 with the presigned POST
curl -sS --fail -o /dev/null -w 'upload: HTTP %{http_code}\n' "${FORM[@]}" -F "file=@$WORK/hello.txt" "$UPLOAD_URL"
# a moment later, the S3 event and the malware scan (locally: EICAR only) have made it available
for _ in $(seq 20); do
  STATUS=$(curl -sS --fail "$API/v1/documents/$DOCUMENT" -H "$AUTH" | jget status)
  [ "$STATUS" = available ] && break || sleep 0.5
done
echo "status: $STATUS"
[ "$STATUS" = available ]
# download it back through a presigned GET
URL=$(curl -sS --fail "$API/v1/documents/$DOCUMENT/download" -H "$AUTH" | jget url)
curl -sS --fail -o "$WORK/hello.copy.txt" "$URL"
cmp "$WORK/hello.txt" "$WORK/hello.copy.txt"
echo 'identical'
WALKTHROUGH
