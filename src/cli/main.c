#include <stdio.h>
int main(void){puts("sanad");return 0;}
