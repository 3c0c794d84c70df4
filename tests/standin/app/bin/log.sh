#!/bin/bash
# harbor-log stand-in: rsyslog listening on tcp/10514 (published on the host
# as 127.0.0.1:1514, where Docker's syslog driver of every other container
# sends), writing /var/log/docker/<tag>.log (log.local.location on the host).
set -e
mkdir -p /var/log/docker /var/spool/rsyslog
exec rsyslogd -n -iNONE -f /etc/rsyslog.conf
