/* MPI hello world for the flux-shell tests: compiled with mpicc at test
 * time; the ranks barrier, sum their ranks with MPI_Allreduce, and each
 * prints its rank, the size and the sum. */
#include <mpi.h>
#include <stdio.h>

int main(int argc, char** argv) {
  int rank, size, sum = 0;
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  MPI_Barrier(MPI_COMM_WORLD);
  MPI_Allreduce(&rank, &sum, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  printf("mpi: rank %d of %d sum %d\n", rank, size, sum);
  MPI_Finalize();
  return 0;
}
