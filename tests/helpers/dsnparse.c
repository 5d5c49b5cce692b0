/* dsnparse - runs the bounce parser over files, for the corpus test
 *
 * usage: dsnparse FILE...
 * Prints one line per file and recipient: FILE TAB KIND TAB ADDRESS TAB
 * SEVERITY TAB STATUS (ADDRESS "-" when the report names nobody). */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>

#include "base/buf.h"
#include "mail/dsn.h"
#include "base/util.h"

int main(int argc, char **argv)
{
	int i, rc = 0;

	for (i = 1; i < argc; i++) {
		struct buf b = BUF_INIT;
		struct dsn_report r;
		size_t k;

		if (util_read_file(argv[i], dsn_default_limits.max_bytes,
				   &b) < 0) {
			fprintf(stderr, "dsnparse: cannot read %s\n", argv[i]);
			rc = 1;
			buf_free(&b);
			continue;
		}
		dsn_parse(b.data != NULL ? b.data : "", b.len, NULL, &r);
		if (r.n == 0)
			printf("%s\t%s\t-\t-\t-\n", argv[i],
			       dsn_kind_name(r.kind));
		for (k = 0; k < r.n; k++)
			printf("%s\t%s\t%s\t%s\t%s\n", argv[i],
			       dsn_kind_name(r.kind), r.v[k].address,
			       dsn_severity_name(r.v[k].severity),
			       r.v[k].status[0] != '\0' ? r.v[k].status : "-");
		dsn_report_free(&r);
		buf_free(&b);
	}
	return rc;
}
