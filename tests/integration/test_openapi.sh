#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# docs/api/openapi.yaml against fedns-hub: the file parses and its $refs resolve, its
# (method, path) pairs equal hub/api.c's route table, a spec with a route removed or a
# broken $ref is caught, and a running hub answers every documented operation with a
# documented status and a body that fits the response schema.
. "$(dirname "$0")/lib.sh"

spec=$t_src/docs/api/openapi.yaml
check=$t_src/tests/integration/openapi_check.py
hub=$t_build/hub/fedns-hub
/usr/bin/python3 -c 'import yaml' 2>/dev/null || {
	echo "python3-yaml is not installed (scripts/install-deps.sh)"
	exit 1
}
cd "$t_tmp"

/usr/bin/python3 "$check" static "$spec" "$t_src/hub/api.c" | tee static.out
t_check "the spec is sane and matches hub/api.c's routes" \
	grep -q '^openapi_check: 0 failed$' static.out

# the comparison must be able to fail: drop one operation, break one $ref
/usr/bin/python3 - "$spec" <<'PY'
import sys, yaml
spec = yaml.safe_load(open(sys.argv[1]))
del spec["paths"]["/api/v1/zones/{zone}/rollback"]
yaml.safe_dump(spec, open("dropped.yaml", "w"))
spec = yaml.safe_load(open(sys.argv[1]))
spec["paths"]["/api/v1/whoami"]["get"]["responses"]["200"]["content"]["application/json"][
    "schema"] = {"$ref": "#/components/schemas/NoSuchThing"}
yaml.safe_dump(spec, open("badref.yaml", "w"))
# what an unquoted comma in a flow mapping makes of a description
spec = yaml.safe_load(open(sys.argv[1]))
spec["components"]["schemas"]["Zone"]["properties"]["name"]["lowercase"] = None
yaml.safe_dump(spec, open("badkey.yaml", "w"))
PY
/usr/bin/python3 "$check" static dropped.yaml "$t_src/hub/api.c" >dropped.out
t_check "a spec without POST .../rollback is caught" \
	grep -q "^FAIL - every route of hub/api.c is in the spec.*'POST', '/api/v1/zones/\*/rollback'" \
	dropped.out
/usr/bin/python3 "$check" static badref.yaml "$t_src/hub/api.c" >badref.out
t_check "a broken \$ref is caught" grep -q '^FAIL - every \$ref resolves.*NoSuchThing' badref.out
/usr/bin/python3 "$check" static badkey.yaml "$t_src/hub/api.c" >badkey.out
t_check "an unknown schema keyword is caught" \
	grep -q "^FAIL - every schema uses only OpenAPI 3.0 keywords.*'lowercase'" badkey.out

# the full OpenAPI 3.0 meta-schema, where a python on PATH has openapi-spec-validator
vpy=
for py in python3 /usr/bin/python3; do
	if "$py" -c 'import openapi_spec_validator, yaml' 2>/dev/null; then vpy=$py; break; fi
done
if [ -n "$vpy" ]; then
	t_check "openapi-spec-validator accepts the spec" "$vpy" -c '
import sys, yaml
from openapi_spec_validator import validate
validate(yaml.safe_load(open(sys.argv[1])))' "$spec"
else
	echo "# openapi-spec-validator not installed; the meta-schema check is skipped"
fi

# live: every operation against a running hub
[ -x "$hub" ] || { echo "$hub is not built"; t_done; }
bash "$t_src/tests/integration/certs.sh" pki >/dev/null 2>&1 || { echo "certs.sh failed"; exit 1; }
"$hub" bootstrap --store hub.db --admin admin >admin.token 2>bootstrap.err ||
	{ cat bootstrap.err; exit 1; }
t_start hub "$hub" serve --store hub.db --listen https://127.0.0.1:0 --cert pki/server.pem \
	--key pki/server.key --port-file hub.port
t_wait 10 test -s hub.port || { cat "$t_tmp/hub.log"; exit 1; }
/usr/bin/python3 "$check" live "$spec" "$(cat hub.port)" pki/ca.pem admin.token | tee live.out
t_check "every live answer is documented and fits its schema" \
	grep -q '^openapi_check: 0 failed$' live.out
t_stop hub
t_check "no sanitizer report in the hub's log" \
	sh -c '! grep -Eq "(Address|Leak|Undefined)Sanitizer|runtime error" hub.log'

t_done
