#!/bin/bash
# Helpers shared by install.sh (stand-in Harbor bundle; same checks as Harbor's).

# colours only on a terminal
if [ -t 1 ]; then
  bold=$(tput bold 2>/dev/null || true); green=$(tput setf 2 2>/dev/null || true); reset=$(tput sgr0 2>/dev/null || true)
  red=$(tput setf 4 2>/dev/null || true); yellow=$(tput setf 6 2>/dev/null || true)
else
  bold=""; green=""; reset=""; red=""; yellow=""
fi

function green() { echo -e "${green}$1${reset}"; }
function red() { echo -e "${red}$1${reset}"; }
function yellow() { echo -e "${yellow}$1${reset}"; }

function note() { echo -e "${bold}Note${reset}: $1"; }
function warn() { echo -e "${yellow}Warn${reset}: $1"; }
function bold() { echo -e "${bold}$1${reset}"; }
function success() { echo -e "${green}✔${reset} $1"; }
function error() { echo -e "${red}✖${reset} $1"; exit 1; }
function h2() { echo ""; echo -e "${bold}$1${reset}"; echo ""; }

# docker >= 17.06
function check_docker {
  if ! docker --version &>/dev/null; then
    error "Need to install docker(17.06.0+) first and run this script again."
  fi
  if [[ $(docker --version) =~ (([0-9]+)\.([0-9]+)([\.0-9]*)) ]]; then
    docker_version=${BASH_REMATCH[1]}
    docker_version_part1=${BASH_REMATCH[2]}
    docker_version_part2=${BASH_REMATCH[3]}
    note "docker version: $docker_version"
    if [ "$docker_version_part1" -lt 17 ] || { [ "$docker_version_part1" -eq 17 ] && [ "$docker_version_part2" -lt 6 ]; }; then
      error "Need to upgrade docker package to 17.06.0+."
    fi
  else
    error "Failed to parse docker version."
  fi
}

# the compose plugin (docker compose) or docker-compose >= 1.18.0; sets DOCKER_COMPOSE
function check_dockercompose {
  if docker compose version &>/dev/null; then
    note "$(docker compose version)"
    DOCKER_COMPOSE="docker compose"
    return
  fi
  if ! docker-compose --version &>/dev/null; then
    error "Need to install docker-compose(1.18.0+) or a docker-compose-plugin (https://docs.docker.com/compose/)first and run this script again."
  fi
  if [[ $(docker-compose --version) =~ (([0-9]+)\.([0-9]+)([\.0-9]*)) ]]; then
    docker_compose_version=${BASH_REMATCH[1]}
    docker_compose_version_part1=${BASH_REMATCH[2]}
    docker_compose_version_part2=${BASH_REMATCH[3]}
    note "docker-compose version: $docker_compose_version"
    if [ "$docker_compose_version_part1" -lt 1 ] || { [ "$docker_compose_version_part1" -eq 1 ] && [ "$docker_compose_version_part2" -lt 18 ]; }; then
      error "Need to upgrade docker-compose package to 1.18.0+."
    fi
    DOCKER_COMPOSE=docker-compose
  else
    error "Failed to parse docker-compose version."
  fi
}
