#!/bin/bash
# Install (or reinstall) Harbor from this directory: the stand-in bundle's
# install.sh, with the steps and flags of Harbor's own:
#   check docker and compose, load harbor*.tar.gz when exactly one is here,
#   ./prepare [--with-trivy], compose down -v, compose up -d.
set -e

DIR="$(cd "$(dirname "$0")" && pwd)"
source "$DIR/common.sh"

set +o noglob

usage=$'Please set hostname and other necessary attributes in harbor.yml first. DO NOT use localhost or 127.0.0.1 for hostname, because Harbor needs to be accessed by external clients.
Please set --with-trivy if needs enable Trivy in Harbor.
Please do NOT set --with-chartmuseum, as chartmusuem has been deprecated and removed.
Please do NOT set --with-notary, as notary has been deprecated and removed.'
item=0

# trivy is not enabled by default
with_trivy=""

# docker compose v2 plugin if present, else docker-compose (set by check_dockercompose)
DOCKER_COMPOSE=docker-compose

while [ $# -gt 0 ]; do
  case $1 in
    --help)
      note "$usage"
      exit 0;;
    --with-trivy)
      with_trivy=true;;
    --with-notary)
      error "Notary has been deprecated and removed from Harbor; do not set --with-notary.";;
    --with-clair)
      error "Clair has been deprecated and removed from Harbor; do not set --with-clair.";;
    --with-chartmuseum)
      error "Chartmuseum has been deprecated and removed from Harbor; do not set --with-chartmuseum.";;
    *)
      note "$usage"
      exit 1;;
  esac
  shift || true
done

workdir="$( cd "$( dirname "${BASH_SOURCE[0]}" )" && pwd )"
cd "$workdir"

h2 "[Step $item]: checking if docker is installed ..."; ((item+=1))
check_docker

h2 "[Step $item]: checking docker-compose is installed ..."; ((item+=1))
check_dockercompose

# exactly one harbor*.tar.gz: load it (two or more: skipped, as Harbor's does)
shopt -s nullglob
bundles=(harbor*.tar.gz)
shopt -u nullglob
if [ ${#bundles[@]} -eq 1 ]; then
  h2 "[Step $item]: loading Harbor images ..."; ((item+=1))
  docker load -i "./${bundles[0]}"
fi
echo ""

h2 "[Step $item]: preparing environment ..."; ((item+=1))
prepare_para=
if [ -n "$with_trivy" ]; then
  prepare_para="${prepare_para} --with-trivy"
fi
./prepare $prepare_para
echo ""

if [ -n "$($DOCKER_COMPOSE ps -q 2>/dev/null)" ]; then
  note "stopping existing Harbor instance ..."
fi
$DOCKER_COMPOSE down -v
echo ""

h2 "[Step $item]: starting Harbor ..."
$DOCKER_COMPOSE up -d

success "----Harbor has been installed and started successfully.----"
