;;; emacs_check.el --- `chargen-tui lsp' in Emacs' own LSP clients, in batch mode  -*- lexical-binding: t -*-
;;
;; Run by benchmarks/emacs_check.sh (which says what it checks).  The environment gives the check-client
;; (CHECK_CLIENT: eglot or lsp-mode), the server's command (CHECK_SERVER, a list read as Lisp),
;; a folder of its own (CHECK_WORK), where to write the server's process id (CHECK_PID_FILE) and
;; the text to type (CHECK_CASE: plain, or emoji: after a character of two UTF-16 units); one check a run.
;; Each client is set up as a user's init file would (the `setup' lines below); exits 1 on failure.

(setq user-emacs-directory (file-name-as-directory (getenv "CHECK_WORK")))
(when (boundp 'native-comp-eln-load-path)  ; its natively compiled trampolines too
  (push (expand-file-name "eln-cache/" user-emacs-directory) native-comp-eln-load-path))
(package-initialize)                    ; Debian's elpa-* packages, as an interactive Emacs activates them
(defvar check-client (intern (getenv "CHECK_CLIENT")))
(defvar check-server (car (read-from-string (getenv "CHECK_SERVER"))))
(defvar check-failed nil)

;; --- setup: what a user puts in their init file (plus batch mode's `lsp-auto-guess-root') ---
(pcase check-client
  ('eglot
   (require 'eglot)
   (add-to-list 'eglot-server-programs
                `(text-mode . (,@check-server :initializationOptions (:threshold 0.22))))
   (add-hook 'text-mode-hook #'eglot-ensure))
  ('lsp-mode
   (setq lsp-client-packages nil lsp-enable-snippet nil lsp-diagnostics-provider :none
         lsp-completion-provider :none lsp-restart 'ignore
         lsp-auto-guess-root t                ; no prompt for the project's root
         lsp-session-file (expand-file-name "lsp-session" user-emacs-directory))
   (require 'lsp-mode)
   (add-to-list 'lsp-language-id-configuration '(text-mode . "plaintext"))
   (lsp-register-client
    (make-lsp-client :new-connection (lsp-stdio-connection check-server)
                     :activation-fn (lsp-activate-on "plaintext")
                     :initialization-options '(:threshold 0.22)
                     :server-id 'chargen-tui))
   (add-hook 'text-mode-hook #'lsp)))   ; users would rather hook `lsp-deferred' (idle timers: not in batch)

(message "%s, %s %s" (car (split-string (emacs-version) "\n")) check-client
         (package-version-join (package-desc-version (cadr (assq check-client package-alist)))))

(defun capf ()
  (if (eq check-client 'eglot) (eglot-completion-at-point) (lsp-completion-at-point)))

(defun check (name text expected)
  "Type TEXT in a new file NAME, show the completions offered there, accept the only one, save;
the file must then say EXPECTED."
  (let ((file (expand-file-name name user-emacs-directory))
        candidates)
    (find-file file)
    (if (eq check-client 'eglot)
        (run-hooks 'post-command-hook)  ; eglot-ensure connects after a command
      (dotimes (_ 50)                   ; lsp-mode's `initialize' is asynchronous
        (unless (and (lsp-workspaces) (eq (lsp--workspace-status (car (lsp-workspaces))) 'initialized)
                     (lsp-feature? "textDocument/completion"))
          (accept-process-output nil 0.1))))
    (let ((process (if (eq check-client 'eglot) (jsonrpc--process (eglot-current-server))
                     (lsp--workspace-proc (car (lsp-workspaces))))))
      (write-region (format "%s\n" (process-id process)) nil (getenv "CHECK_PID_FILE") t 'quiet))
    (insert text)
    (dotimes (_ 50)                     ; the server loads its model for a moment after starting
      (unless candidates
        (accept-process-output nil 0.1)
        (let ((found (capf)))
          (setq candidates (and found (all-completions (buffer-substring (nth 0 found) (nth 1 found))
                                                       (nth 2 found)))))))
    (message "  %S offers %S" text (mapcar #'substring-no-properties candidates))
    (completion-at-point)
    (save-buffer)
    (let ((saved (with-temp-buffer (insert-file-contents file) (string-trim-right (buffer-string)))))
      (message "  accepted and saved: %S" saved)
      (unless (and (member (car (last (split-string expected))) candidates)
                   (equal saved expected))
        (message "  FAILED: expected %S" expected)
        (setq check-failed t)))
    (if (eq check-client 'eglot) (eglot-shutdown (eglot-current-server))
      (lsp-workspace-shutdown (car (lsp-workspaces))))
    (set-buffer-modified-p nil)
    (kill-buffer)))

(condition-case problem
    (if (equal (getenv "CHECK_CASE") "emoji")
        ;; After a character of two UTF-16 units: eglot 1.9 counts UTF-16 units, as the protocol says;
        ;; lsp-mode 8.0.0 counts characters and says nothing (its issue #2080): the server believes it.
        (check "emoji.txt" "😀 café — I paid with my credit c" "😀 café — I paid with my credit card")
      (check "draft.txt" "I paid with my credit c" "I paid with my credit card"))
  (error (message "  FAILED: %s" (error-message-string problem))
         (dolist (buffer (buffer-list))   ; the server's stderr, if it said anything
           (when (string-match-p "stderr" (buffer-name buffer))
             (message "%s" (with-current-buffer buffer (buffer-string)))))
         (setq check-failed t)))
(kill-emacs (if check-failed 1 0))
