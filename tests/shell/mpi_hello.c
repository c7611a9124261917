/* MPI hello world for the flux-shell tests: compiled with mpicc at test
 * time; each rank prints its rank and the size, then they all barrier. */
#include <mpi.h>
#include <stdio.h>

int main(int argc, char** argv) {
  int rank, size;
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  MPI_Barrier(MPI_COMM_WORLD);
  printf("mpi: rank %d of %d\n", rank, size);
  MPI_Finalize();
  return 0;
}
