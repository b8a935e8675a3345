#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# A fake secondary for NOTIFY tests: records every NOTIFY it receives (time, zone, serial)
# as a line in the log file, and answers them unless told to stay silent.
# Usage: notify_sink.py PORT LOGFILE answer|silent
import socket
import sys
import time

import dns.message
import dns.opcode
import dns.rcode

port, logfile, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", port))
with open(logfile, "a", buffering=1) as log:
    while True:
        data, peer = s.recvfrom(65535)
        try:
            m = dns.message.from_wire(data)
        except Exception as e:  # a malformed NOTIFY is a test failure: record it
            log.write("malformed %s\n" % e)
            continue
        if m.opcode() != dns.opcode.NOTIFY:
            continue
        serial = m.answer[0][0].serial if m.answer else -1
        log.write("%.6f %s %d\n" % (time.time(), m.question[0].name, serial))
        if mode == "answer":
            r = dns.message.make_response(m)
            s.sendto(r.to_wire(), peer)
