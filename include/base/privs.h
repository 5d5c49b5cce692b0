/* privs - giving up root: the daemon becomes its user before it opens
 * anything */
#ifndef CONVENE_PRIVS_H
#define CONVENE_PRIVS_H

/* Becomes `user` for good: looks it up, then setgroups, setresgid,
 * setresuid, each checked, and checks that root cannot be regained.
 * Returns 0, or -1 with *error_r (newly allocated) saying why. */
int privs_drop(const char *user, char **error_r);

#endif
