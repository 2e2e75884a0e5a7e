/*
 * fuzz_policy: libFuzzer harness for the policy loader (untrusted YAML).
 * Every input is loaded with nDPI 4.2's names; diagnostics are printed (the
 * caret code walks source lines) and a loaded policy evaluates a few flows,
 * one of them made of the input's own bytes.
 *
 *   make fuzz && build/fuzz/fuzz_policy tests/fuzz/corpus/policy
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "policy/policy.h"
#include "tests/policy/ndpi_vocab.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void eval_flows(const struct policy *p, const uint8_t *data, size_t size)
{
	static const char *const protos[][2] = {
		{ "TLS", "Google" }, { "DNS", "DNS" }, { "HTTP", NULL }, { "Unknown", NULL },
		{ "MQTT", "MQTT" },
	};
	struct policy_verdict v;
	struct policy_flow f;
	size_t i;

	for (i = 0; i < 6; i++) {
		memset(&f, 0, sizeof(f));
		f.initiator.family = i & 1 ? AF_INET6 : AF_INET;
		f.responder.family = f.initiator.family;
		/* 192.168.1.x / fd00:1::x to an address picked by the input */
		if (f.initiator.family == AF_INET) {
			memcpy(f.initiator.addr, "\xc0\xa8\x01", 3);
			f.initiator.addr[3] = (uint8_t)(10 + i);
		} else {
			memcpy(f.initiator.addr, "\xfd\x00\x00\x01", 4);
			f.initiator.addr[15] = (uint8_t)(10 + i);
		}
		if (size >= 16 * (i + 1))
			memcpy(f.responder.addr, data + size - 16 * (i + 1), 16);
		if (f.responder.family == AF_INET)
			memset(f.responder.addr + 4, 0, 12);
		f.initiator.has_mac = true;
		memcpy(f.initiator.mac, "\x02\x00\x00\x00\x00", 5);
		f.initiator.mac[5] = (uint8_t)(0x10 + i);
		f.initiator.ifname = i & 2 ? "eth1" : NULL;
		f.responder.port = size ? (uint16_t)(data[0] << 8 | data[size - 1]) : 443;
		f.responder.has_mac = i == 4;
		f.responder.mac[0] = 1;
		f.ip_proto = i & 1 ? 17 : 6;
		f.vlan = (uint16_t)(i == 5 ? 10 : 0);
		f.master_proto = protos[i % 5][0];
		f.app_proto = protos[i % 5][1];
		f.category = i & 1 ? "Web" : NULL;
		f.host = i & 2 ? "a.vendor-cloud.example." : "C2.Unknown.Example";
		policy_evaluate(p, &f, &v);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *sink;
	struct policy_diag *d = NULL;
	struct policy *p;

	if (!sink)
		sink = fopen("/dev/null", "w");
	p = policy_load_buffer("fuzz.yaml", (const char *)data, size, &ndpi42_vocab, &d);
	policy_diag_print(d, sink);
	policy_diag_free(d);
	if (p) {
		size_t i, n = policy_device_count(p);

		eval_flows(p, data, size);
		for (i = 0; i < n; i++) {
			const struct policy_device *dev = policy_device_at(p, i);

			policy_device_name(dev);
			policy_device_profile(dev);
			policy_device_limits(dev);
			policy_device_rule_at(dev, POLICY_OUT, 0);
		}
		policy_free(p);
	}
	return 0;
}
