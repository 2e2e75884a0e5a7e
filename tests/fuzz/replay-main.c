/* replay-main.c - a plain main() for libFuzzer harnesses, so `make check`
 * replays every saved input (seeds and past crashers) with the ordinary
 * compiler and sanitizers, without clang's fuzzer runtime.
 *
 * Usage: fuzz_X DIR_OR_FILE...   (directories are read one level deep)
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (!f) {
		perror(path);
		return -1;
	}
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		fclose(f);
		return -1;
	}
	/* Exactly sized so sanitizers catch any read past the input. */
	buf = malloc(n ? (size_t)n : 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, (size_t)n);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned runs = 0, errors = 0, n_dir;
	struct dirent *de;
	struct stat st;
	char path[4096];
	int i;

	for (i = 1; i < argc; i++) {
		DIR *d;

		if (stat(argv[i], &st) < 0) {
			perror(argv[i]);
			errors++;
			continue;
		}
		if (!S_ISDIR(st.st_mode)) {
			errors += run_file(argv[i]) < 0;
			runs++;
			continue;
		}
		d = opendir(argv[i]);
		if (!d) {
			perror(argv[i]);
			errors++;
			continue;
		}
		/* A directory that yields nothing, or a readdir() error
		 * (EOVERFLOW: 32-bit off_t), is an error, not a pass. */
		n_dir = 0;
		errno = 0;
		while ((de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", argv[i], de->d_name);
			errors += run_file(path) < 0;
			runs++;
			n_dir++;
			errno = 0;
		}
		if (errno || !n_dir) {
			fprintf(stderr, "%s: %s\n", argv[i],
				errno ? strerror(errno) : "no inputs");
			errors++;
		}
		closedir(d);
	}
	printf("%s: %u inputs replayed, %u unreadable\n", argv[0], runs, errors);
	return errors ? 1 : 0;
}
