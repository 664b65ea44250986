// Every route of the app (the server serves index.html for exactly these paths).
// Home loads with the app; every other view is its own chunk.
import { lazy } from "react";
import { Route, Routes } from "react-router";
import { Layout } from "./layout/Layout";
import { Home } from "./views/home/Home";
import { NotFound } from "./views/NotFound";

const Login = lazy(() => import("./views/auth/Login"));
const Register = lazy(() => import("./views/auth/Register"));
const Editor = lazy(() => import("./views/editor/Editor"));
const Article = lazy(() => import("./views/article/Article"));
const Profile = lazy(() => import("./views/profile/Profile"));
const Settings = lazy(() => import("./views/account/Settings"));
const Sessions = lazy(() => import("./views/account/Sessions"));
const Notifications = lazy(() => import("./views/account/Notifications"));
const ForgotPassword = lazy(() => import("./views/account/ForgotPassword"));
const ResetPassword = lazy(() => import("./views/account/ResetPassword"));
const VerifyEmail = lazy(() => import("./views/account/VerifyEmail"));

/** The route table. */
export function AppRoutes() {
  return (
    <Routes>
      <Route element={<Layout />}>
        <Route index element={<Home />} />
        <Route path="login" element={<Login />} />
        <Route path="register" element={<Register />} />
        <Route path="editor" element={<Editor />} />
        <Route path="editor/:slug" element={<Editor />} />
        <Route path="article/:slug" element={<Article />} />
        <Route path="profile/:username" element={<Profile tab="articles" />} />
        <Route path="profile/:username/favorites" element={<Profile tab="favorites" />} />
        <Route path="settings" element={<Settings />} />
        <Route path="settings/sessions" element={<Sessions />} />
        <Route path="notifications" element={<Notifications />} />
        <Route path="forgot-password" element={<ForgotPassword />} />
        <Route path="reset-password" element={<ResetPassword />} />
        <Route path="verify-email" element={<VerifyEmail />} />
        <Route path="*" element={<NotFound />} />
      </Route>
    </Routes>
  );
}
