/* SPDX-License-Identifier: Apache-2.0 */
/* The hub's dashboard and /metrics handler (stub until the assets and metrics land). */
#include "hub/dashboard.h"

#include <stdlib.h>

struct hub_ops {
	hub_ops_opts o;
};

fedns_err
hub_ops_new(const hub_ops_opts *o, hub_ops **out, fedns_diag *d)
{
	if (o == NULL || out == NULL)
		return fedns_diag_set(d, FEDNS_EINVAL, "hub_ops_new: missing options");
	hub_ops *ops = calloc(1, sizeof(*ops));
	if (ops == NULL)
		return fedns_diag_set(d, FEDNS_ENOMEM, "hub_ops_new: out of memory");
	ops->o = *o;
	*out = ops;
	return FEDNS_OK;
}

bool
hub_ops_handle(hub_ops *ops, const hub_req *req, hub_res *res)
{
	(void)ops;
	(void)req;
	(void)res;
	return false;
}

void
hub_ops_free(hub_ops *ops)
{
	free(ops);
}
