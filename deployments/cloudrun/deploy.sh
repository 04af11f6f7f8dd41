#!/usr/bin/env bash
# Deploy heysh's three workers to Cloud Run.
#
#   deployments/cloudrun/deploy.sh                     # all three, from the YAML
#   deployments/cloudrun/deploy.sh ai-worker           # one of them
#   deployments/cloudrun/deploy.sh --mode flags        # same, as `gcloud run deploy`
#   DRY_RUN=1 deployments/cloudrun/deploy.sh           # print, do not run
#
# --mode yaml (default) renders <worker>.yaml with envsubst and applies it with
# `gcloud run services replace`. --mode flags runs the equivalent
# `gcloud run deploy` commands; tests/deployments/test_cloudrun.py checks that
# both give the same settings.
#
# Required variables: PROJECT_ID REGION IMAGE_AI_WORKER IMAGE_STORAGE_WORKER
# IMAGE_GENERAL_WORKER TEMPORAL_ADDRESS MLFLOW_TRACKING_URI VECTOR_URL
# GRAPH_URL NETWORK SUBNET NFS_SERVER NFS_PATH (a Filestore share for the files
# the storage and AI workers share). Optional, with defaults: TEMPORAL_NAMESPACE
# (default), TEMPORAL_TLS (true), NEO4J_USER (neo4j).
# Secrets come from Secret Manager (docs/deployment.md, "Cloud Run"), never
# from this script.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
workers_all=(ai-worker storage-worker general-worker)
required=(PROJECT_ID REGION IMAGE_AI_WORKER IMAGE_STORAGE_WORKER IMAGE_GENERAL_WORKER
          TEMPORAL_ADDRESS MLFLOW_TRACKING_URI VECTOR_URL GRAPH_URL NETWORK SUBNET
          NFS_SERVER NFS_PATH)

: "${TEMPORAL_NAMESPACE:=default}"
: "${TEMPORAL_TLS:=true}"
: "${NEO4J_USER:=neo4j}"
export TEMPORAL_NAMESPACE TEMPORAL_TLS NEO4J_USER

usage() {
  sed -n '2,7p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

mode=yaml
workers=()
while [ $# -gt 0 ]; do
  case "$1" in
    --mode) [ $# -ge 2 ] || usage; mode="$2"; shift 2 ;;
    --mode=*) mode="${1#--mode=}"; shift ;;
    -h|--help) usage ;;
    ai-worker|storage-worker|general-worker) workers+=("$1"); shift ;;
    *) echo "deploy.sh: unknown argument '$1'; workers are: ${workers_all[*]}" >&2
       exit 2 ;;
  esac
done
[ "${#workers[@]}" -gt 0 ] || workers=("${workers_all[@]}")
case "$mode" in yaml|flags) ;; *)
  echo "deploy.sh: --mode must be yaml or flags, not '$mode'" >&2; exit 2 ;;
esac

missing=()
for name in "${required[@]}"; do
  [ -n "${!name:-}" ] || missing+=("$name")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "deploy.sh: set these variables first: ${missing[*]}" >&2
  exit 1
fi

run() {
  if [ "${DRY_RUN:-0}" = 1 ]; then
    printf '%q ' "$@"; printf '\n'
  else
    "$@"
  fi
}

# Substitute only our variables, so that no other `$` in a file is touched.
# shellcheck disable=SC2016  # literal ${NAME}s: envsubst's list, not expansions
substituted='${PROJECT_ID} ${REGION} ${IMAGE_AI_WORKER} ${IMAGE_STORAGE_WORKER}
${IMAGE_GENERAL_WORKER} ${TEMPORAL_ADDRESS} ${TEMPORAL_NAMESPACE} ${TEMPORAL_TLS}
${MLFLOW_TRACKING_URI} ${VECTOR_URL} ${GRAPH_URL} ${NEO4J_USER} ${NETWORK} ${SUBNET}
${NFS_SERVER} ${NFS_PATH}'

deploy_yaml() {
  local worker="$1" rendered
  rendered="$(mktemp "${TMPDIR:-/tmp}/heysh-${worker}.XXXXXX.yaml")"
  envsubst "$substituted" < "$here/${worker}.yaml" > "$rendered"
  # shellcheck disable=SC2016  # a literal '${' is what we look for
  if grep -n '\${' "$rendered" >&2; then
    echo "deploy.sh: unsubstituted variable left in ${worker}.yaml (above)" >&2
    rm -f "$rendered"
    exit 1
  fi
  run gcloud run services replace "$rendered" --project "$PROJECT_ID" --region "$REGION"
  if [ "${DRY_RUN:-0}" = 1 ]; then
    cat "$rendered"
  fi
  rm -f "$rendered"
}

# Flags every worker shares: internal, private, CPU always allocated, VPC egress
# for private ranges (Temporal, stores), public traffic straight out.
common_flags=(
  --project "$PROJECT_ID" --region "$REGION"
  --port 8080 --no-cpu-throttling --cpu-boost --execution-environment gen2
  --ingress internal --no-allow-unauthenticated
  --service-account "heysh-worker@${PROJECT_ID}.iam.gserviceaccount.com"
  --network "$NETWORK" --subnet "$SUBNET" --vpc-egress private-ranges-only
)

# Environment every worker shares. In --set-env-vars, a leading `^;^` makes ';'
# the separator, so values may contain commas.
common_env="HEYSH_HEALTH_PORT=8080;HEYSH_LOG_FORMAT=json"
common_env+=";HEYSH_WORKER_SHUTDOWN_GRACE_S=8"
common_env+=";HEYSH_TEMPORAL_ADDRESS=${TEMPORAL_ADDRESS}"
common_env+=";HEYSH_TEMPORAL_NAMESPACE=${TEMPORAL_NAMESPACE}"
common_env+=";HEYSH_TEMPORAL_TLS=${TEMPORAL_TLS}"

deploy_flags() {
  local worker="$1"
  case "$worker" in
    ai-worker)
      run gcloud run deploy heysh-ai-worker "${common_flags[@]}" \
        --image "$IMAGE_AI_WORKER" \
        --cpu 4 --memory 16Gi --gpu 1 --gpu-type nvidia-l4 --no-gpu-zonal-redundancy \
        --min-instances 1 --max-instances 5 \
        --add-volume "name=blobs,type=nfs,location=${NFS_SERVER}:${NFS_PATH}/blobs" \
        --add-volume-mount "volume=blobs,mount-path=/var/lib/heysh/blobs" \
        --set-env-vars "^;^WORKER_TYPES=ai-processing;${common_env};MLFLOW_TRACKING_URI=${MLFLOW_TRACKING_URI};HEYSH_MODEL_ALIAS=production" \
        --set-secrets "HEYSH_TEMPORAL_API_KEY=heysh-temporal-api-key:latest,ANTHROPIC_API_KEY=heysh-anthropic-api-key:latest,OPENAI_API_KEY=heysh-openai-api-key:latest" \
        --startup-probe "httpGet.path=/health,httpGet.port=8080,periodSeconds=10,failureThreshold=30" \
        --liveness-probe "httpGet.path=/health,httpGet.port=8080,periodSeconds=20,timeoutSeconds=5,failureThreshold=3"
      ;;
    storage-worker)
      run gcloud run deploy heysh-storage-worker "${common_flags[@]}" \
        --image "$IMAGE_STORAGE_WORKER" \
        --cpu 2 --memory 8Gi \
        --min-instances 2 --max-instances 10 \
        --add-volume "name=blobs,type=nfs,location=${NFS_SERVER}:${NFS_PATH}/blobs" \
        --add-volume "name=archive,type=nfs,location=${NFS_SERVER}:${NFS_PATH}/archive" \
        --add-volume-mount "volume=blobs,mount-path=/var/lib/heysh/blobs" \
        --add-volume-mount "volume=archive,mount-path=/var/lib/heysh/archive" \
        --set-env-vars "^;^WORKER_TYPES=storage;${common_env};HEYSH_VECTOR_URL=${VECTOR_URL};HEYSH_GRAPH_URL=${GRAPH_URL};HEYSH_NEO4J_USER=${NEO4J_USER}" \
        --set-secrets "HEYSH_TEMPORAL_API_KEY=heysh-temporal-api-key:latest,HEYSH_METADATA_URL=heysh-metadata-url:latest,HEYSH_NEO4J_PASSWORD=heysh-neo4j-password:latest" \
        --startup-probe "httpGet.path=/health,httpGet.port=8080,periodSeconds=5,failureThreshold=24" \
        --liveness-probe "httpGet.path=/health,httpGet.port=8080,periodSeconds=20,timeoutSeconds=5,failureThreshold=3"
      ;;
    general-worker)
      run gcloud run deploy heysh-general-worker "${common_flags[@]}" \
        --image "$IMAGE_GENERAL_WORKER" \
        --cpu 2 --memory 4Gi \
        --min-instances 3 --max-instances 20 \
        --set-env-vars "^;^WORKER_TYPES=general;${common_env}" \
        --set-secrets "HEYSH_TEMPORAL_API_KEY=heysh-temporal-api-key:latest,HEYSH_METADATA_URL=heysh-metadata-url:latest" \
        --startup-probe "httpGet.path=/health,httpGet.port=8080,periodSeconds=5,failureThreshold=24" \
        --liveness-probe "httpGet.path=/health,httpGet.port=8080,periodSeconds=20,timeoutSeconds=5,failureThreshold=3"
      ;;
  esac
}

for worker in "${workers[@]}"; do
  echo "deploy.sh: ${worker} (${mode})" >&2
  "deploy_${mode}" "$worker"
done
