/* Internal to tensor/ (not installed): releasing per-thread buffers when their thread
 * ends. Kernels keep scratch space in _Thread_local pointers so each call can reuse it;
 * but when a later parallel region uses fewer threads, the OpenMP runtime lets the
 * surplus worker threads go, and their pointers, the only references to those
 * buffers, go with them. A function registered here runs in the thread as it exits
 * and frees them. */
#ifndef TENSOR_THREAD_EXIT_INTERNAL_H
#define TENSOR_THREAD_EXIT_INTERNAL_H

/* Runs release() when the calling thread exits (not for the main thread, whose
 * thread-local pointers stay valid until the process ends). Registering the same
 * function again in a thread does nothing; up to 8 functions per thread. */
void tensor__release_at_thread_exit(void (*release)(void));

#endif
