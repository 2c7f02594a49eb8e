/* fdlist - prints the open file descriptors of this process, one a line. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
	DIR *d = opendir("/proc/self/fd");
	if (d == NULL)
		return 1;
	int self = dirfd(d);
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (atoi(e->d_name) != self)
			printf("%s\n", e->d_name);
	}
	closedir(d);
	return 0;
}
