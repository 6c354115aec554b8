"""`nbgrader submit` for a hub's students: a submission only its author and the TA can enter.

nbgrader's ExchangeSubmit makes each submission folder mode 0777 ("so the
instructor can delete later"): another student who learns its name could
empty it and leave the author with nothing graded. Here the folder is 0770
instead: the author and the TA's group (inbound is setgid, so every
submission carries it) may enter, read and clean it; nobody else may. (Not
2770: a student is not in the TA's group, and the kernel drops the setgid
bit when she chmods.)

This file imports nothing of cnnlab: `cnnlab hub` copies it beside the
students' nbgrader config, because students' servers do not see the cnnlab
package (its grading code is not for students).
"""
import os

from nbgrader.exchange.default.submit import ExchangeSubmit

FOLDER_MODE = 0o770


class PrivateExchangeSubmit(ExchangeSubmit):

    def copy_files(self):
        super().copy_files()
        os.chmod(os.path.join(self.inbound_path, self.assignment_filename), FOLDER_MODE)
