#!/bin/sh
# The attachments bucket in the bundled MinIO (idempotent: docker-compose.minio.yml runs it
# on every `up`, as `minio-setup`, in the MinIO image, which carries `mc` and a POSIX sh).
#
#   MINIO_ENDPOINT (http://minio:9000), MINIO_ROOT_USER, MINIO_ROOT_PASSWORD
#   TICKETFLOW_S3_BUCKET   the bucket to make (private: only the API reads it)
#   MINIO_WAIT_SECONDS (120)  how long to wait for MinIO to answer
set -eu

: "${MINIO_ROOT_USER:?set MINIO_ROOT_USER}"
: "${MINIO_ROOT_PASSWORD:?set MINIO_ROOT_PASSWORD}"
: "${TICKETFLOW_S3_BUCKET:?set TICKETFLOW_S3_BUCKET}"
endpoint="${MINIO_ENDPOINT:-http://minio:9000}"
wait_seconds="${MINIO_WAIT_SECONDS:-120}"

echo "waiting for MinIO at $endpoint ..."
waited=0
until mc alias set store "$endpoint" "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" >/dev/null 2>&1; do
  if [ "$waited" -ge "$wait_seconds" ]; then
    echo "error: MinIO at $endpoint did not accept the credentials within ${wait_seconds}s:" >&2
    mc alias set store "$endpoint" "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" >&2 || true
    exit 1
  fi
  sleep 2
  waited=$((waited + 2))
done

mc mb --ignore-existing "store/$TICKETFLOW_S3_BUCKET"
echo "bucket $TICKETFLOW_S3_BUCKET ready"
