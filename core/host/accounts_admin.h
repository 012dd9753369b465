/*
 * accounts_admin.h - `tale-host accounts list|lock|unlock|delete|reset-password`
 * (host-internal; issue #15).
 */
#ifndef TALE_ACCOUNTS_ADMIN_H
#define TALE_ACCOUNTS_ADMIN_H

/* Run the subcommand with the arguments after "accounts"; the exit status
 * (0 done, 1 failed, 2 usage).  default_config: the config without --config. */
int tale_accounts_admin(int argc, char **argv, const char *default_config);

#endif
