/* standalone - runs a fuzz target over files, without libFuzzer: the
 * regression inputs (crashes found once, kept) and the seeds, in make
 * check. Usage: PROGRAM FILE|DIR... ; prints how many inputs it ran. */
#include "autoconf.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned long runs;

static int run_path(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		perror(path);
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		struct dirent **names;
		int n, i, rc = 0;

		n = scandir(path, &names, NULL, alphasort);
		if (n < 0) {
			perror(path);
			return -1;
		}
		for (i = 0; i < n; i++) {
			char *sub;

			if (names[i]->d_name[0] != '.') {
				sub = malloc(strlen(path) +
					     strlen(names[i]->d_name) + 2);
				if (sub == NULL)
					abort();
				snprintf(sub, strlen(path) +
					 strlen(names[i]->d_name) + 2, "%s/%s",
					 path, names[i]->d_name);
				if (run_path(sub) < 0)
					rc = -1;
				free(sub);
			}
			free(names[i]);
		}
		free(names);
		return rc;
	}
	if (!S_ISREG(st.st_mode))
		return 0;
	{
		FILE *f = fopen(path, "rb");
		uint8_t *data;
		size_t n;

		if (f == NULL) {
			perror(path);
			return -1;
		}
		/* an exact-size copy, as libFuzzer hands it over, so that
		 * AddressSanitizer sees a read past its end */
		data = malloc((size_t)st.st_size ? (size_t)st.st_size : 1);
		if (data == NULL)
			abort();
		n = fread(data, 1, (size_t)st.st_size, f);
		fclose(f);
		LLVMFuzzerTestOneInput(data, n);
		free(data);
		runs++;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int i, rc = 0;

	for (i = 1; i < argc; i++)
		if (run_path(argv[i]) < 0)
			rc = 1;
	printf("%lu inputs\n", runs);
	return rc;
}
