"""flux.compat36: stand-ins for standard library functions that Python 3.6
lacks (flux-core keeps this module for old interpreters)."""

import signal

# glibc's descriptions, by signal name (names this platform lacks are skipped)
_DESCRIPTIONS = {
    "SIGHUP": "Hangup",
    "SIGINT": "Interrupt",
    "SIGQUIT": "Quit",
    "SIGILL": "Illegal instruction",
    "SIGTRAP": "Trace/breakpoint trap",
    "SIGABRT": "Aborted",
    "SIGBUS": "Bus error",
    "SIGFPE": "Floating point exception",
    "SIGKILL": "Killed",
    "SIGUSR1": "User defined signal 1",
    "SIGSEGV": "Segmentation Fault",
    "SIGUSR2": "User defined signal 2",
    "SIGPIPE": "Broken pipe",
    "SIGALRM": "Alarm clock",
    "SIGTERM": "Terminated",
    "SIGSTKFLT": "Stack fault",
    "SIGCHLD": "Child exited",
    "SIGCONT": "Continued",
    "SIGSTOP": "Stopped (signal)",
    "SIGTSTP": "Stopped",
    "SIGTTIN": "Stopped (tty input)",
    "SIGTTOU": "Stopped (tty output)",
    "SIGURG": "Urgent I/O condition",
    "SIGXCPU": "CPU time limit exceeded",
    "SIGXFSZ": "File size limit exceeded",
    "SIGVTALRM": "Virtual timer expired",
    "SIGPROF": "Profiling timer expired",
    "SIGWINCH": "Window changed",
    "SIGIO": "I/O possible",
    "SIGPWR": "Power failure",
    "SIGSYS": "Bad system call",
}

_BY_NUMBER = {
    int(getattr(signal, name)): text
    for name, text in _DESCRIPTIONS.items()
    if hasattr(signal, name)
}


def strsignal(signum):
    """The description of signal SIGNUM (as signal.strsignal() of Python
    3.8+ on glibc); ValueError if it is not a known signal."""
    try:
        return _BY_NUMBER[int(signum)]
    except KeyError:
        raise ValueError(f"unknown signal {signum}") from None
