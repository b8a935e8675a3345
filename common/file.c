/* SPDX-License-Identifier: Apache-2.0 */
/* Capped whole-file reads and confined path resolution. */
#include "common/file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

fedns_err
fedns_file_read(const char *path, size_t max, char **out, size_t *len, fedns_diag *d)
{
	fedns_err err = FEDNS_OK;
	char *buf = NULL;
	/* O_NONBLOCK so a FIFO without a writer is refused below instead of hanging here;
	 * it changes nothing for regular files */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return fedns_diag_set(d, -errno, "%s: cannot open: %s", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) != 0) {
		err = fedns_diag_set(d, -errno, "%s: cannot stat: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		err = fedns_diag_set(d, FEDNS_EINVAL, "%s: not a regular file", path);
		goto out;
	}
	if ((size_t)st.st_size > max) {
		err = fedns_diag_set(d, FEDNS_ETOOBIG, "%s: file is larger than the %zu-byte limit",
				     path, max);
		goto out;
	}
	size_t size = (size_t)st.st_size, got = 0;
	buf = malloc(size + 1);
	if (buf == NULL) {
		err = fedns_diag_set(d, FEDNS_ENOMEM, "%s: out of memory", path);
		goto out;
	}
	while (got < size) {
		ssize_t n = read(fd, buf + got, size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = fedns_diag_set(d, -errno, "%s: read failed: %s", path,
					     strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	*out = buf;
	*len = got;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return err;
}

fedns_err
fedns_path_confine(const char *dir, const char *ref, char **out, fedns_diag *d)
{
	char base[PATH_MAX], real[PATH_MAX], joined[PATH_MAX];
	if (realpath(dir, base) == NULL)
		return fedns_diag_set(d, -errno, "%s: cannot resolve directory: %s", dir,
				      strerror(errno));
	int n = ref[0] == '/' ? snprintf(joined, sizeof(joined), "%s", ref)
			      : snprintf(joined, sizeof(joined), "%s/%s", base, ref);
	if (n < 0 || (size_t)n >= sizeof(joined))
		return fedns_diag_set(d, FEDNS_ETOOBIG, "%s: path too long", ref);
	if (realpath(joined, real) == NULL)
		return fedns_diag_set(d, -errno, "%s: cannot open: %s", ref, strerror(errno));
	size_t bl = strlen(base);
	if (bl == 1)
		bl = 0; /* base is "/": everything is inside */
	if (strncmp(real, base, bl) != 0 || (real[bl] != '/' && real[bl] != '\0'))
		return fedns_diag_set(d, FEDNS_EACCES, "%s: outside the zone's directory", ref);
	*out = strdup(real);
	if (*out == NULL)
		return fedns_diag_set(d, FEDNS_ENOMEM, "out of memory");
	return FEDNS_OK;
}

char *
fedns_path_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (slash == NULL)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	size_t n = (size_t)(slash - path);
	char *s = malloc(n + 1);
	if (s != NULL) {
		memcpy(s, path, n);
		s[n] = '\0';
	}
	return s;
}

fedns_err
fedns_file_include(void *ctx, const char *ref, const char *from, char **text, size_t *len,
		   char **resolved, fedns_diag *d)
{
	(void)from;
	const char *dir = ctx != NULL ? (const char *)ctx : ".";
	char *path = NULL;
	fedns_err err = fedns_path_confine(dir, ref, &path, d);
	if (err != FEDNS_OK)
		return err;
	err = fedns_file_read(path, (size_t)1 << 30, text, len, d);
	if (err != FEDNS_OK) {
		free(path);
		return err;
	}
	*resolved = path;
	return FEDNS_OK;
}
