/* SPDX-License-Identifier: Apache-2.0 */
/* The hub commands of fednsctl (cli/cmd_*.c), registered in fednsctl.c's command table.
 * Each takes the arguments after "GROUP NAME" and returns the exit code (CLI_EXIT_*). */
#pragma once

int cmd_zone_list(int argc, char **argv);
int cmd_zone_show(int argc, char **argv);
int cmd_zone_create(int argc, char **argv);
int cmd_zone_export(int argc, char **argv);
int cmd_zone_delete(int argc, char **argv);
int cmd_zone_policy(int argc, char **argv);
int cmd_zone_placement(int argc, char **argv);
int cmd_zone_rollback(int argc, char **argv);
int cmd_zone_history(int argc, char **argv);
int cmd_zone_diff(int argc, char **argv);
int cmd_record_list(int argc, char **argv);

int cmd_change_propose(int argc, char **argv);
int cmd_change_plan(int argc, char **argv);
int cmd_change_list(int argc, char **argv);
int cmd_change_show(int argc, char **argv);
int cmd_change_approve(int argc, char **argv);
int cmd_change_reject(int argc, char **argv);
int cmd_change_withdraw(int argc, char **argv);

int cmd_audit_list(int argc, char **argv);
int cmd_audit_export(int argc, char **argv);
int cmd_audit_verify(int argc, char **argv);

int cmd_principal_create(int argc, char **argv);
int cmd_principal_list(int argc, char **argv);
int cmd_principal_token(int argc, char **argv);
int cmd_principal_grant(int argc, char **argv);
int cmd_principal_revoke(int argc, char **argv);
int cmd_principal_key_add(int argc, char **argv);
int cmd_principal_disable(int argc, char **argv);
int cmd_tenant_create(int argc, char **argv);
int cmd_tenant_list(int argc, char **argv);
int cmd_whoami(int argc, char **argv);

/* Federation status (cli/cmd_status.c). */
int cmd_status(int argc, char **argv);
int cmd_clusters(int argc, char **argv);

/* Offline PKI commands (cli/cmd_pki.c). */
int cmd_pki_init(int argc, char **argv);
int cmd_pki_verify(int argc, char **argv);

/* Shared by the change and zone commands: prints a change (and its plan and diff when
 * the answer has them) for people. 'verb' heads the first line ("proposed", "plan"). */
struct cJSON;
void cli_print_change(const struct cJSON *j, const char *verb, int with_diff);
